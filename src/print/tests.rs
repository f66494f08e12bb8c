//! Golden-byte tests of the rendered tickets, and the round trip through the decoder.
//!
//! The same sample ticket is rendered in Polish, Ukrainian and English for every built-in
//! profile and compared byte for byte with `src/print/golden/<profile>-<lang>.bin` (and its
//! decoded text with the `.txt` beside it, which is what a reviewer reads in a diff). Run with
//! `UPDATE_GOLDEN=1` to write the files after an intended change.

use std::path::PathBuf;

use super::codepage::{CodePage, is_cyrillic};
use super::decode::{Piece, decode, decode_text};
use super::profile::{Profile, TableSelect, UkrainianMode, builtin_profiles};
use super::render::{TicketPrint, render};
use crate::engine::{Lang, TicketNumber};

pub(crate) fn sample(lang: Lang) -> TicketPrint {
    let number = TicketNumber::parse("B014").expect("number");
    let qr_url = Some("https://kolejka.example.pl/t/B014?k=7f3a".to_owned());
    let issued_at_local = "2026-03-02 08:15".to_owned();
    match lang {
        Lang::Pl => TicketPrint {
            office_name: "Urząd Miasta Żółkiewka — Biuro Obsługi Mieszkańców".into(),
            case_type_name: "Rejestracja pojazdów".into(),
            number,
            people_ahead: 5,
            estimated_wait_min: Some(25),
            issued_at_local,
            documents: "Dowód osobisty lub paszport\nDowód rejestracyjny pojazdu\n\
                        Polisa OC i karta pojazdu (jeśli została wydana)"
                .into(),
            qr_url,
            footer: "Dziękujemy! Zachowaj bilet do chwili obsługi.".into(),
            lang,
        },
        Lang::Uk => TicketPrint {
            office_name: "Міська управа Жулкевки — Центр обслуговування мешканців".into(),
            case_type_name: "Реєстрація транспортних засобів".into(),
            number,
            people_ahead: 5,
            estimated_wait_min: Some(25),
            issued_at_local,
            documents: "Паспорт або посвідка на проживання\nСвідоцтво про реєстрацію \
                        транспортного засобу\nПоліс ОЦ (obowiązkowe ubezpieczenie OC)\n\
                        Довідка з ґміни, якщо її вимагають"
                .into(),
            qr_url,
            footer: "Дякуємо! Зберігайте талон до кінця обслуговування.".into(),
            lang,
        },
        Lang::En => TicketPrint {
            office_name: "Żółkiewka Town Hall – Customer Service Office".into(),
            case_type_name: "Vehicle registration".into(),
            number,
            people_ahead: 5,
            estimated_wait_min: Some(25),
            issued_at_local,
            documents: "ID card or passport\nVehicle registration certificate\n\
                        Third-party liability insurance (OC)"
                .into(),
            qr_url,
            footer: "Thank you! Keep this ticket until you are served.".into(),
            lang,
        },
    }
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/print/golden")
}

#[test]
fn rendered_tickets_match_the_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut mismatches = Vec::new();
    for profile in builtin_profiles() {
        for lang in Lang::ALL {
            let bytes = render(&profile, &sample(lang));
            let text = decode_text(&profile, &bytes);
            let stem = format!("{}-{}", profile.id, lang.code());
            let bin = golden_dir().join(format!("{stem}.bin"));
            let txt = golden_dir().join(format!("{stem}.txt"));
            if update {
                std::fs::create_dir_all(golden_dir()).expect("golden dir");
                std::fs::write(&bin, &bytes).expect("write golden");
                std::fs::write(&txt, &text).expect("write golden");
                continue;
            }
            let expected = std::fs::read(&bin).unwrap_or_default();
            if expected != bytes {
                let at = expected
                    .iter()
                    .zip(&bytes)
                    .position(|(a, b)| a != b)
                    .unwrap_or(expected.len().min(bytes.len()));
                mismatches.push(format!(
                    "{stem}.bin: differs from byte {at} ({} bytes expected, {} rendered)",
                    expected.len(),
                    bytes.len()
                ));
            }
            let expected_text = std::fs::read_to_string(&txt).unwrap_or_default();
            if expected_text != text {
                mismatches.push(format!("{stem}.txt: decoded text differs:\n{text}"));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}\n(run with UPDATE_GOLDEN=1 to accept the new output)",
        mismatches.join("\n")
    );
}

/// The bytes outside images and 2D-code data: what the printer reads as text.
fn text_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(&[0x1D, 0x76, 0x30]) && i + 8 <= bytes.len() {
            let w = usize::from(bytes[i + 4]) + 256 * usize::from(bytes[i + 5]);
            let h = usize::from(bytes[i + 6]) + 256 * usize::from(bytes[i + 7]);
            i += 8 + w * h;
        } else if bytes[i..].starts_with(&[0x1D, 0x28, 0x6B]) && i + 5 <= bytes.len() {
            let len = usize::from(bytes[i + 3]) + 256 * usize::from(bytes[i + 4]);
            i += 5 + len;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Every Polish and Ukrainian letter as UTF-8, as it must never reach the printer.
fn utf8_letters() -> Vec<(char, Vec<u8>)> {
    "ąćęłńóśźżĄĆĘŁŃÓŚŹŻабвгґдеєжзиіїйклмнопрстуфхцчшщьюяАБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ"
        .chars()
        .map(|c| (c, c.to_string().into_bytes()))
        .collect()
}

/// The printed text lines only (not the data of QR codes, whose links may hold a `?`).
fn lines_only(profile: &Profile, bytes: &[u8]) -> String {
    decode(profile, bytes)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Text { text, .. } => Some(text),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The decoded text with line breaks as spaces, so that wrapped phrases can be searched.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn polish_survives_the_round_trip_on_every_profile() {
    for profile in builtin_profiles() {
        let bytes = render(&profile, &sample(Lang::Pl));
        let text = decode_text(&profile, &bytes);
        let flat = flat(&text);
        for phrase in [
            "Rejestracja pojazdów",
            "Urząd Miasta Żółkiewka",
            "Biuro Obsługi Mieszkańców",
            "B014",
            "Liczba osób przed Tobą: 5",
            "Przewidywany czas oczekiwania: ok. 25 min",
            "Wydano: 2026-03-02 08:15",
            "Potrzebne dokumenty:",
            "Dowód osobisty lub paszport",
            "Polisa OC i karta pojazdu (jeśli została wydana)",
            "Zeskanuj kod, aby śledzić kolejkę w telefonie",
            "Dziękujemy! Zachowaj bilet do chwili obsługi.",
        ] {
            assert!(
                flat.contains(phrase),
                "{}: no `{phrase}` in\n{text}",
                profile.id
            );
        }
        assert!(
            !lines_only(&profile, &bytes).contains('?'),
            "{}: `?` in\n{text}",
            profile.id
        );
        assert!(
            !text.contains('\u{FFFD}'),
            "{}: unknown byte in\n{text}",
            profile.id
        );
        let raw = text_bytes(&bytes);
        for (c, utf8) in utf8_letters() {
            assert!(
                !raw.windows(utf8.len()).any(|w| w == utf8.as_slice()),
                "{}: UTF-8 of {c} sent to the printer",
                profile.id
            );
        }
        // The number is printed as text, big.
        assert!(decode(&profile, &bytes).iter().any(|p| matches!(
            p,
            Piece::Text { text, double_width: true, double_height: true, .. } if text == "B014"
        )));
    }
}

#[test]
fn every_case_type_name_of_the_demo_office_prints_intact() {
    let office = crate::config::demo().office;
    for profile in builtin_profiles() {
        for case in &office.case_types {
            for lang in Lang::ALL {
                let name = case.name.get(lang);
                if lang == Lang::Uk && profile.ukrainian == UkrainianMode::Raster {
                    continue;
                }
                let ticket = TicketPrint {
                    case_type_name: name.to_owned(),
                    documents: case.documents.get(lang).to_owned(),
                    ..sample(lang)
                };
                let bytes = render(&profile, &ticket);
                let text = decode_text(&profile, &bytes);
                assert!(
                    flat(&text).contains(&flat(name)),
                    "{} {}: `{name}` not in\n{text}",
                    profile.id,
                    lang.code()
                );
                let lines = lines_only(&profile, &bytes);
                assert!(
                    !lines.contains('?') && !lines.contains('\u{FFFD}'),
                    "{text}"
                );
            }
        }
    }
}

#[test]
fn ukrainian_is_text_where_the_profile_switches_tables_and_an_image_elsewhere() {
    for profile in builtin_profiles() {
        let bytes = render(&profile, &sample(Lang::Uk));
        let text = decode_text(&profile, &bytes);
        let flat = flat(&text);
        assert!(flat.contains("B014"), "{}", profile.id);
        let lines = lines_only(&profile, &bytes);
        assert!(
            !lines.contains('?') && !lines.contains('\u{FFFD}'),
            "{text}"
        );
        let raw = text_bytes(&bytes);
        for (c, utf8) in utf8_letters() {
            assert!(
                !raw.windows(utf8.len()).any(|w| w == utf8.as_slice()),
                "{}: UTF-8 of {c} sent to the printer",
                profile.id
            );
        }
        match profile.ukrainian {
            UkrainianMode::Codepage => {
                for phrase in [
                    "Реєстрація транспортних засобів",
                    "Міська управа Жулкевки",
                    "Центр обслуговування мешканців",
                    "Кількість осіб перед вами: 5",
                    "Орієнтовний час очікування: близько 25 хв",
                    "Видано: 2026-03-02 08:15",
                    "Потрібні документи:",
                    // Polish inside a Ukrainian line: the table switches mid-line and back.
                    "Поліс ОЦ (obowiązkowe ubezpieczenie OC)",
                    "Довідка з ґміни, якщо її вимагають",
                    "Дякуємо! Зберігайте талон до кінця обслуговування.",
                ] {
                    assert!(
                        flat.contains(phrase),
                        "{}: no `{phrase}` in\n{text}",
                        profile.id
                    );
                }
                let cyrillic = profile.cyrillic.expect("codepage needs a table");
                let switch = profile.select_table(cyrillic);
                assert!(bytes.windows(switch.len()).any(|w| w == switch.as_slice()));
            }
            UkrainianMode::Raster => {
                assert!(!text.chars().any(is_cyrillic), "{}: {text}", profile.id);
                let images = decode(&profile, &bytes)
                    .iter()
                    .filter(|p| matches!(p, Piece::Image(_)))
                    .count();
                assert!(images >= 5, "{}: {images} images in\n{text}", profile.id);
                // Nothing Cyrillic is sent as text, so the Cyrillic table is never selected.
                if let Some(cyrillic) = profile.cyrillic {
                    let switch = profile.select_table(cyrillic);
                    assert!(!raw.windows(switch.len()).any(|w| w == switch.as_slice()));
                }
            }
        }
    }
}

#[test]
fn english_tickets_keep_polish_place_names() {
    for profile in builtin_profiles() {
        let text = decode_text(&profile, &render(&profile, &sample(Lang::En)));
        let flat = flat(&text);
        for phrase in [
            "Żółkiewka Town Hall",
            "Customer Service Office",
            "Vehicle registration",
            "People ahead of you: 5",
            "Estimated waiting time: about 25 min",
            "Documents to bring:",
            "Scan the code to follow the queue on your phone",
        ] {
            assert!(
                flat.contains(phrase),
                "{}: no `{phrase}` in\n{text}",
                profile.id
            );
        }
    }
}

/// A profile with CP866, which lacks і and ґ: they print as their look-alikes, never as `?`.
#[test]
fn letters_missing_from_the_cyrillic_table_print_as_look_alikes() {
    let mut profile = builtin_profiles()
        .into_iter()
        .find(|p| p.id == "epson-tm-t88")
        .expect("epson");
    profile.cyrillic = Some(TableSelect {
        page: CodePage::Cp866,
        number: 17,
    });
    let bytes = render(&profile, &sample(Lang::Uk));
    let text = decode_text(&profile, &bytes);
    let flat = flat(&text);
    assert!(!lines_only(&profile, &bytes).contains('?'), "{text}");
    // і became the Latin i, ґ the Cyrillic г.
    assert!(flat.contains("Реєстрацiя транспортних засобiв"), "{text}");
    assert!(
        flat.contains("Довiдка з гмiни, якщо її вимагають"),
        "{text}"
    );
}

/// Without a way to print Cyrillic at all (no table, and the font missing), Ukrainian is
/// transliterated rather than lost.
#[test]
fn unprintable_characters_are_replaced_not_dropped() {
    let mut profile: Profile = builtin_profiles()
        .into_iter()
        .find(|p| p.id == "generic-80mm")
        .expect("80mm");
    profile.cyrillic = None;
    let ticket = TicketPrint {
        case_type_name: "Київ… „test” – 20 €".into(),
        documents: "emoji 😀 stays a question mark".into(),
        ..sample(Lang::Pl)
    };
    let text = decode_text(&profile, &render(&profile, &ticket));
    let flat = flat(&text);
    assert!(flat.contains("Kyiv... \"test\" - 20 EUR"), "{text}");
    assert!(flat.contains("emoji ? stays"), "{text}");
}

#[test]
fn no_estimate_and_no_qr_leave_their_lines_out() {
    let profile = &builtin_profiles()[0];
    let ticket = TicketPrint {
        estimated_wait_min: None,
        qr_url: None,
        documents: String::new(),
        ..sample(Lang::Pl)
    };
    let text = decode_text(profile, &render(profile, &ticket));
    assert!(!text.contains("Przewidywany"), "{text}");
    assert!(!text.contains("Zeskanuj"), "{text}");
    assert!(!text.contains("Potrzebne"), "{text}");
    let zero = TicketPrint {
        estimated_wait_min: Some(0),
        ..sample(Lang::Pl)
    };
    let text = decode_text(profile, &render(profile, &zero));
    assert!(
        flat(&text).contains("Przewidywany czas oczekiwania: poniżej 1 min"),
        "{text}"
    );
}

#[test]
fn lines_fit_the_paper() {
    for profile in builtin_profiles() {
        for lang in Lang::ALL {
            for piece in decode(&profile, &render(&profile, &sample(lang))) {
                match piece {
                    Piece::Text {
                        text, double_width, ..
                    } => {
                        let width =
                            usize::from(profile.width_chars) / if double_width { 2 } else { 1 };
                        assert!(text.chars().count() <= width, "{}: `{text}`", profile.id);
                    }
                    Piece::Image(b) => assert!(b.width <= usize::from(profile.width_dots)),
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn the_clone_leaves_chinese_mode_first_and_profiles_cut_as_configured() {
    for profile in builtin_profiles() {
        let bytes = render(&profile, &sample(Lang::Pl));
        assert!(bytes.starts_with(&profile.init));
        let pieces = decode(&profile, &bytes);
        let cut = matches!(pieces.last(), Some(Piece::Cut));
        assert_eq!(
            cut,
            profile.cut != super::profile::CutMode::None,
            "{}",
            profile.id
        );
    }
    let clone = builtin_profiles()
        .into_iter()
        .find(|p| p.id == "generic-58mm")
        .expect("58mm");
    assert!(render(&clone, &sample(Lang::Pl)).starts_with(&[0x1C, 0x2E]));
}

/// Writes a PNG picture of every golden ticket to `target/print-previews/`, to look at after a
/// change: `cargo test --lib print::tests::write_previews -- --ignored`.
#[test]
#[ignore = "writes pictures for a person to look at"]
fn write_previews() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/print-previews");
    std::fs::create_dir_all(&dir).expect("dir");
    for profile in builtin_profiles() {
        for lang in Lang::ALL {
            let bytes = render(&profile, &sample(lang));
            let png = super::decode::preview_png(&profile, &bytes).expect("png");
            std::fs::write(dir.join(format!("{}-{}.png", profile.id, lang.code())), png)
                .expect("write");
        }
    }
}
