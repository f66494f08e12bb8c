//! Architecture invariants that the compiler does not check (see docs/ARCHITECTURE.md).

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The words that would mean the engine does IO or depends on a runtime: crates for async,
/// HTTP, SQL and printing, the standard library's IO modules, and reading the clock.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "axum",
    "tower",
    "hyper",
    "rusqlite",
    "reqwest",
    "escpos",
    "tungstenite",
    "std::fs",
    "std::net",
    "std::thread",
    "std::process",
    "std::io",
    "std::env",
    "SystemTime",
    "Instant::now",
    "Timestamp::now",
    "Zoned::now",
    "crate::store",
    "crate::server",
    "crate::config",
];

fn contains_word(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + word.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        boundary(before) && boundary(after)
    })
}

#[test]
fn the_engine_does_no_io_and_imports_no_runtime() {
    let engine = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let files = rust_files(&engine);
    assert!(
        files.len() >= 5,
        "engine files not found in {}",
        engine.display()
    );
    let mut offences = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("read engine file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN {
                if contains_word(code, word) {
                    offences.push(format!(
                        "{}:{}: `{word}` in: {}",
                        file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the engine must not do IO:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_word_check_itself_works() {
    assert!(contains_word("use tokio::sync;", "tokio"));
    assert!(contains_word("x: std::fs::File", "std::fs"));
    assert!(!contains_word("let tokiox = 1;", "tokio"));
    assert!(!contains_word("my_axum_like", "axum"));
}
