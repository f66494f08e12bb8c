//! The printing sections of the office file, `[printing]` and `[[printers]]`: read as written
//! (`Raw*`, unknown keys refused) and checked into a `print::PrintConfig`, every problem located
//! by file, line, column and field like the rest of the file.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_spanned::Spanned;

use super::error::Problems;
use super::raw::{RawDocument, RawTexts};
use super::validate::texts;
use crate::print::profile::builtin_profiles;
use crate::print::setup::{PrintConfig, PrinterConfig, TransportSpec, valid_printer_name};

/// `[printing]`: what every ticket carries and where phones find the ticket.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [printing] table")]
pub(super) struct RawPrinting {
    pub default_printer: Option<Spanned<String>>,
    pub phone_url: Option<Spanned<String>>,
    pub header: Option<Spanned<RawTexts>>,
    pub footer: Option<Spanned<RawTexts>>,
}

/// One `[[printers]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[printers]] table")]
pub(super) struct RawPrinter {
    pub name: Spanned<String>,
    pub profile: Spanned<String>,
    pub transport: Spanned<String>,
    #[serde(default)]
    pub kiosks: Vec<Spanned<String>>,
}

/// Checks the printing sections; `None` after reporting every problem found.
pub(super) fn printing(doc: &RawDocument, p: &mut Problems<'_>) -> Option<PrintConfig> {
    let before = p.count();
    let printers = if doc.printers.present {
        printers(doc, p)
    } else {
        // No printer configured: the virtual printer of the default setup.
        PrintConfig::default().printers
    };
    if doc.printers.present && doc.printers.complete && doc.printers.entries.is_empty() {
        p.add(
            0..0,
            "printers",
            "no printers: give at least one [[printers]] entry, or leave the section out to \
             save tickets with the virtual printer",
        );
    }

    let mut config = PrintConfig {
        printers,
        ..PrintConfig::default()
    };
    if let Some(section) = &doc.printing.value {
        let r = section.get_ref();
        if let Some(name) = &r.default_printer {
            let known: Vec<&str> = config.printers.iter().map(|p| p.name.as_str()).collect();
            // Only against a complete list: a broken printer entry is its own problem.
            if doc.printers.complete && !known.contains(&name.get_ref().as_str()) {
                p.add(
                    name.span(),
                    "printing.default_printer",
                    format!(
                        "unknown printer `{}` (known: {})",
                        name.get_ref(),
                        known.join(", ")
                    ),
                );
            }
            config.default_printer = Some(name.get_ref().clone());
        }
        if let Some(url) = &r.phone_url {
            config.phone_url = phone_url(url, p);
        }
        if let Some(header) = &r.header {
            config.header = texts("printing.header", header, p);
        }
        if let Some(footer) = &r.footer {
            config.footer = texts("printing.footer", footer, p);
        }
    }
    (p.count() == before && !doc.printing.failed && doc.printers.complete).then_some(config)
}

fn printers(doc: &RawDocument, p: &mut Problems<'_>) -> Vec<PrinterConfig> {
    let profiles: Vec<String> = builtin_profiles().into_iter().map(|p| p.id).collect();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut kiosks: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, raw) in &doc.printers.entries {
        let before = p.count();
        let path = format!("printers[{i}]");
        let r = raw.get_ref();

        let name = r.name.get_ref().trim();
        if !valid_printer_name(name) {
            p.add(
                r.name.span(),
                format!("{path}.name"),
                format!(
                    "`{name}` is not a printer name: use 1 to 40 letters, digits, \"-\" or \"_\", \
                     like \"hall-a\""
                ),
            );
        } else if let Some(first) = names.insert(name.to_owned(), *i) {
            p.add(
                r.name.span(),
                format!("{path}.name"),
                format!("duplicate printer name `{name}`: printers[{first}] already uses it"),
            );
        }

        let profile = r.profile.get_ref().trim();
        if !profiles.iter().any(|known| known == profile) {
            p.add(
                r.profile.span(),
                format!("{path}.profile"),
                format!(
                    "unknown printer profile `{profile}`, expected one of: {}",
                    profiles.join(", ")
                ),
            );
        }

        let transport = match TransportSpec::parse(r.transport.get_ref()) {
            Ok(t) => Some(t),
            Err(message) => {
                p.add(r.transport.span(), format!("{path}.transport"), message);
                None
            }
        };

        for (k, kiosk) in r.kiosks.iter().enumerate() {
            let key = kiosk.get_ref().trim().to_lowercase();
            if key.is_empty() {
                p.add(
                    kiosk.span(),
                    format!("{path}.kiosks[{k}]"),
                    "an empty kiosk name: give the name the kiosk was registered with",
                );
            } else if let Some(first) = kiosks.insert(key, *i) {
                p.add(
                    kiosk.span(),
                    format!("{path}.kiosks[{k}]"),
                    format!(
                        "kiosk `{}` already prints on printers[{first}]; a kiosk prints on one \
                         printer",
                        kiosk.get_ref().trim()
                    ),
                );
            }
        }

        if p.count() > before {
            continue;
        }
        if let Some(transport) = transport {
            out.push(PrinterConfig {
                name: name.to_owned(),
                profile: profile.to_owned(),
                transport,
                kiosks: r
                    .kiosks
                    .iter()
                    .map(|k| k.get_ref().trim().to_owned())
                    .collect(),
            });
        }
    }
    out
}

/// `https://host[:port][/path]` or `http://...`, without a query or fragment; kept without
/// a trailing slash.
fn phone_url(raw: &Spanned<String>, p: &mut Problems<'_>) -> Option<String> {
    let url = raw.get_ref().trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let ok = rest.is_some_and(|rest| {
        let host = rest.split('/').next().unwrap_or_default();
        !host.is_empty()
            && !rest.contains(['?', '#'])
            && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
    });
    if !ok {
        p.add(
            raw.span(),
            "printing.phone_url",
            format!(
                "`{url}` is not a web address phones can open, expected one like \
                 \"https://kolejka.example.pl\" (the QR code on a ticket opens it with /t/… added)"
            ),
        );
        return None;
    }
    Some(url.trim_end_matches('/').to_owned())
}
