//! `kolejka user ...`: managing users from the server's shell, e.g. the first admin of an
//! office, or an admin who forgot their password.
//!
//! A password is never taken from the command line (it would be in the shell's history and in
//! the process list): it is read from the terminal without echo, twice, or, when standard
//! input is not a terminal (a script, a pipe), as its first line.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use super::service::{valid_name, valid_password};
use super::{AuthError, Role, db, secret};
use crate::store::Store;

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Create a user. The password is asked on the terminal, or read from standard input.
    Add {
        /// 1 to 64 of the characters A-Z, a-z, 0-9, '.', '_', '@' and '-'.
        name: String,
        /// clerk, manager or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The SQLite database file (created with its directory if missing).
        #[arg(long, env = "KOLEJKA_DB", default_value = "data/kolejka.db")]
        db: PathBuf,
    },
    /// Set a user's password; the user's sessions end. The password is asked on the terminal,
    /// or read from standard input.
    Passwd {
        name: String,
        /// The SQLite database file.
        #[arg(long, env = "KOLEJKA_DB", default_value = "data/kolejka.db")]
        db: PathBuf,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("`{s}` is not a role: use clerk, manager or admin"))
}

/// Runs a `user` command: exit code 0 on success, 2 for bad input, 1 for other failures.
pub fn run(cmd: UserCmd) -> ExitCode {
    match execute(cmd) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kolejka: {e}");
            match e {
                AuthError::Invalid(_) | AuthError::UserExists(_) | AuthError::UnknownUser(_) => {
                    ExitCode::from(2)
                }
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn execute(cmd: UserCmd) -> Result<String, AuthError> {
    match cmd {
        UserCmd::Add { name, role, db } => {
            valid_name(&name)?;
            let password = read_password(&name)?;
            valid_password(&password)?;
            let conn = open(&db)?;
            let hash = secret::hash_password(&password)?;
            db::insert_user(&conn, &name, &hash, role, now())?;
            let mut message = format!("created user {name} ({})", role.as_str());
            if !has_admin(&conn)? {
                message.push_str(
                    "\nnote: there is no enabled admin yet; add one with \
                     `kolejka user add NAME --role admin`",
                );
            }
            Ok(message)
        }
        UserCmd::Passwd { name, db } => {
            valid_name(&name)?;
            let mut conn = open(&db)?;
            if db::user(&conn, &name)?.is_none() {
                return Err(AuthError::UnknownUser(name));
            }
            let password = read_password(&name)?;
            valid_password(&password)?;
            let hash = secret::hash_password(&password)?;
            db::set_password(&mut conn, &name, &hash, now(), None)?;
            Ok(format!(
                "password of {name} changed; their sessions have ended"
            ))
        }
    }
}

/// Opens the database, applying the store's migrations first (the same ones the server
/// applies before it starts).
fn open(path: &Path) -> Result<rusqlite::Connection, AuthError> {
    let store = Store::open(path).map_err(|e| {
        AuthError::Invalid(format!("cannot open the database {}: {e}", path.display()))
    })?;
    store
        .close()
        .map_err(|e| AuthError::Invalid(format!("cannot close {}: {e}", path.display())))?;
    db::open(path)
}

fn has_admin(conn: &rusqlite::Connection) -> Result<bool, AuthError> {
    Ok(db::users(conn)?
        .iter()
        .any(|u| u.role == Role::Admin && !u.disabled))
}

fn now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// The new password: asked twice on the terminal without echo, or the first line of standard
/// input when it is not a terminal.
fn read_password(name: &str) -> Result<String, AuthError> {
    let io = |source| AuthError::Io {
        path: "standard input".into(),
        source,
    };
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {name}: ")).map_err(io)?;
        let again = rpassword::prompt_password("The same password again: ").map_err(io)?;
        if first != again {
            return Err(AuthError::Invalid("the two passwords differ".into()));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(io)?;
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        Ok(password.to_owned())
    }
}
