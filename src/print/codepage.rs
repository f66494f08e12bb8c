//! The single-byte code pages a thermal printer prints Polish and Ukrainian with, and what to
//! print when a character is in none of them.
//!
//! A printer in ESC/POS mode prints bytes, not text: bytes 0x20-0x7E are ASCII and bytes
//! 0x80-0xFF mean whatever the table selected with `ESC t n` says. The tables here are the
//! upper halves of the code pages, generated from Python's codecs (which follow the IBM and
//! Microsoft definitions); the number `n` that selects a table differs from brand to brand and
//! belongs to the printer profile, not here.
//!
//! We never hand text to a library that falls back to UTF-8 for a missing character (the
//! `escpos` crate does): UTF-8 bytes print as two or three wrong characters on paper.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A code page a profile may select for Polish or for Cyrillic text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CodePage {
    /// IBM PC852 (Latin-2, DOS).
    #[serde(rename = "cp852")]
    Cp852,
    /// Windows-1250 (Latin-2, Windows).
    #[serde(rename = "wpc1250")]
    Wpc1250,
    /// ISO 8859-2 (Latin-2).
    #[serde(rename = "iso8859-2")]
    Iso8859_2,
    /// IBM PC866 (Russian DOS): has є ї but not і ґ.
    #[serde(rename = "cp866")]
    Cp866,
    /// Windows-1251 (Cyrillic, Windows): has every Ukrainian letter.
    #[serde(rename = "wpc1251")]
    Wpc1251,
    /// PC1125 (RUSCII, the Ukrainian DOS page): has every Ukrainian letter.
    #[serde(rename = "pc1125")]
    Pc1125,
}

impl CodePage {
    /// The names a profile may use, as written in TOML.
    pub const LATIN2_NAMES: &'static str = "\"cp852\", \"wpc1250\" or \"iso8859-2\"";
    pub const CYRILLIC_NAMES: &'static str = "\"cp866\", \"wpc1251\" or \"pc1125\"";

    /// Parses the name written in a profile.
    pub fn from_name(name: &str) -> Option<CodePage> {
        Some(match name.to_ascii_lowercase().as_str() {
            "cp852" | "pc852" => CodePage::Cp852,
            "wpc1250" | "cp1250" | "windows-1250" => CodePage::Wpc1250,
            "iso8859-2" | "iso-8859-2" => CodePage::Iso8859_2,
            "cp866" | "pc866" => CodePage::Cp866,
            "wpc1251" | "cp1251" | "windows-1251" => CodePage::Wpc1251,
            "pc1125" | "cp1125" => CodePage::Pc1125,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            CodePage::Cp852 => "cp852",
            CodePage::Wpc1250 => "wpc1250",
            CodePage::Iso8859_2 => "iso8859-2",
            CodePage::Cp866 => "cp866",
            CodePage::Wpc1251 => "wpc1251",
            CodePage::Pc1125 => "pc1125",
        }
    }

    /// Whether the page has every Polish letter (the Latin-2 pages do).
    pub fn is_latin2(self) -> bool {
        matches!(
            self,
            CodePage::Cp852 | CodePage::Wpc1250 | CodePage::Iso8859_2
        )
    }

    /// Whether the page is one of the Cyrillic ones.
    pub fn is_cyrillic(self) -> bool {
        !self.is_latin2()
    }

    fn upper(self) -> &'static [char; 128] {
        match self {
            CodePage::Cp852 => &CP852,
            CodePage::Wpc1250 => &WPC1250,
            CodePage::Iso8859_2 => &ISO8859_2,
            CodePage::Cp866 => &CP866,
            CodePage::Wpc1251 => &WPC1251,
            CodePage::Pc1125 => &PC1125,
        }
    }

    /// The byte for a character, if the page has it. Printable ASCII is the same in every page.
    pub fn encode(self, c: char) -> Option<u8> {
        if (' '..='~').contains(&c) {
            return Some(c as u8);
        }
        if c == '\0' {
            return None;
        }
        self.upper()
            .iter()
            .position(|&t| t == c)
            .and_then(|i| u8::try_from(i + 0x80).ok())
    }

    /// The character a byte prints as; `None` for a control byte or a byte the page leaves
    /// undefined.
    pub fn decode(self, b: u8) -> Option<char> {
        match b {
            0x20..=0x7E => Some(char::from(b)),
            0x80..=0xFF => self
                .upper()
                .get(usize::from(b - 0x80))
                .copied()
                .filter(|&c| c != '\0'),
            _ => None,
        }
    }
}

impl fmt::Display for CodePage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a character is a Polish letter with a diacritic (what a Latin-2 page must carry).
pub fn is_polish_letter(c: char) -> bool {
    "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ".contains(c)
}

/// Whether a character is Cyrillic (the Unicode Cyrillic block).
pub fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// What to print instead of a character that the printer's pages do not have: a look-alike
/// or a transliteration, never `?` for a Polish or Ukrainian letter.
///
/// The result is tried again against the pages; it is ASCII except for the Cyrillic look-alikes
/// (ґ → г), which every Cyrillic page has.
pub fn fallback(c: char) -> Option<&'static str> {
    Some(match c {
        // Typography.
        '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\t' => " ",
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' | '\u{02BC}' | '`' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' | '\u{2033}' => "\"",
        '\u{2026}' => "...",
        '\u{2022}' | '\u{00B7}' | '\u{2023}' | '\u{25CF}' => "*",
        '\u{2116}' => "No.",
        '\u{20AC}' => "EUR",
        '\u{00B0}' => "o",
        '\u{2192}' => "->",
        '\u{00D7}' => "x",
        '\u{200B}' | '\u{00AD}' | '\u{FEFF}' => "",
        // Ukrainian letters a page may lack: CP866 has no і ґ. The Latin i is the same glyph.
        'і' => "i",
        'І' => "I",
        'ґ' => "г",
        'Ґ' => "Г",
        // Polish letters (only reached on a page without them, which validation prevents).
        'ą' => "a",
        'ć' => "c",
        'ę' => "e",
        'ł' => "l",
        'ń' => "n",
        'ó' => "o",
        'ś' => "s",
        'ź' | 'ż' => "z",
        'Ą' => "A",
        'Ć' => "C",
        'Ę' => "E",
        'Ł' => "L",
        'Ń' => "N",
        'Ó' => "O",
        'Ś' => "S",
        'Ź' | 'Ż' => "Z",
        // Other Latin letters a name may carry.
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ă' => "a",
        'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' | 'Ă' => "A",
        'é' | 'è' | 'ê' | 'ë' | 'ě' => "e",
        'É' | 'È' | 'Ê' | 'Ë' | 'Ě' => "E",
        'í' | 'ì' | 'î' | 'ï' => "i",
        'Í' | 'Ì' | 'Î' | 'Ï' => "I",
        'ô' | 'ö' | 'ò' | 'õ' | 'ő' | 'ø' => "o",
        'Ô' | 'Ö' | 'Ò' | 'Õ' | 'Ő' | 'Ø' => "O",
        'ú' | 'ù' | 'û' | 'ü' | 'ů' | 'ű' => "u",
        'Ú' | 'Ù' | 'Û' | 'Ü' | 'Ů' | 'Ű' => "U",
        'ç' | 'č' => "c",
        'Ç' | 'Č' => "C",
        'š' | 'ş' => "s",
        'Š' | 'Ş' => "S",
        'ž' => "z",
        'Ž' => "Z",
        'ř' => "r",
        'Ř' => "R",
        'ñ' | 'ň' => "n",
        'Ñ' | 'Ň' => "N",
        'ý' | 'ÿ' => "y",
        'Ý' => "Y",
        'ď' => "d",
        'Ď' => "D",
        'ť' => "t",
        'Ť' => "T",
        'ß' => "ss",
        _ => return cyrillic_to_latin(c),
    })
}

/// The Ukrainian national transliteration (Cabinet of Ministers resolution no. 55 of
/// 27 January 2010, in its word-internal forms), plus the Russian letters a text may carry;
/// for a printer with no Cyrillic page that prints Ukrainian neither by switching pages nor as
/// an image.
pub fn cyrillic_to_latin(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "h",
        'ґ' => "g",
        'д' => "d",
        'е' => "e",
        'є' => "ie",
        'ж' => "zh",
        'з' => "z",
        'и' => "y",
        'і' => "i",
        'ї' => "i",
        'й' => "i",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ь' => "",
        'ю' => "iu",
        'я' => "ia",
        'ё' => "io",
        'ы' => "y",
        'э' => "e",
        'ъ' => "",
        'А' => "A",
        'Б' => "B",
        'В' => "V",
        'Г' => "H",
        'Ґ' => "G",
        'Д' => "D",
        'Е' => "E",
        'Є' => "Ye",
        'Ж' => "Zh",
        'З' => "Z",
        'И' => "Y",
        'І' => "I",
        'Ї' => "Yi",
        'Й' => "Y",
        'К' => "K",
        'Л' => "L",
        'М' => "M",
        'Н' => "N",
        'О' => "O",
        'П' => "P",
        'Р' => "R",
        'С' => "S",
        'Т' => "T",
        'У' => "U",
        'Ф' => "F",
        'Х' => "Kh",
        'Ц' => "Ts",
        'Ч' => "Ch",
        'Ш' => "Sh",
        'Щ' => "Shch",
        'Ь' => "",
        'Ю' => "Yu",
        'Я' => "Ya",
        'Ё' => "Yo",
        'Ы' => "Y",
        'Э' => "E",
        'Ъ' => "",
        _ => return None,
    })
}

/// Bytes 0x80-0xFF of CP852 (generated from Python's `cp852` codec); `\0` marks a byte the table leaves undefined.
const CP852: [char; 128] = [
    '\u{00C7}', '\u{00FC}', '\u{00E9}', '\u{00E2}', '\u{00E4}', '\u{016F}', '\u{0107}',
    '\u{00E7}', // 0x80
    '\u{0142}', '\u{00EB}', '\u{0150}', '\u{0151}', '\u{00EE}', '\u{0179}', '\u{00C4}',
    '\u{0106}', // 0x88
    '\u{00C9}', '\u{0139}', '\u{013A}', '\u{00F4}', '\u{00F6}', '\u{013D}', '\u{013E}',
    '\u{015A}', // 0x90
    '\u{015B}', '\u{00D6}', '\u{00DC}', '\u{0164}', '\u{0165}', '\u{0141}', '\u{00D7}',
    '\u{010D}', // 0x98
    '\u{00E1}', '\u{00ED}', '\u{00F3}', '\u{00FA}', '\u{0104}', '\u{0105}', '\u{017D}',
    '\u{017E}', // 0xA0
    '\u{0118}', '\u{0119}', '\u{00AC}', '\u{017A}', '\u{010C}', '\u{015F}', '\u{00AB}',
    '\u{00BB}', // 0xA8
    '\u{2591}', '\u{2592}', '\u{2593}', '\u{2502}', '\u{2524}', '\u{00C1}', '\u{00C2}',
    '\u{011A}', // 0xB0
    '\u{015E}', '\u{2563}', '\u{2551}', '\u{2557}', '\u{255D}', '\u{017B}', '\u{017C}',
    '\u{2510}', // 0xB8
    '\u{2514}', '\u{2534}', '\u{252C}', '\u{251C}', '\u{2500}', '\u{253C}', '\u{0102}',
    '\u{0103}', // 0xC0
    '\u{255A}', '\u{2554}', '\u{2569}', '\u{2566}', '\u{2560}', '\u{2550}', '\u{256C}',
    '\u{00A4}', // 0xC8
    '\u{0111}', '\u{0110}', '\u{010E}', '\u{00CB}', '\u{010F}', '\u{0147}', '\u{00CD}',
    '\u{00CE}', // 0xD0
    '\u{011B}', '\u{2518}', '\u{250C}', '\u{2588}', '\u{2584}', '\u{0162}', '\u{016E}',
    '\u{2580}', // 0xD8
    '\u{00D3}', '\u{00DF}', '\u{00D4}', '\u{0143}', '\u{0144}', '\u{0148}', '\u{0160}',
    '\u{0161}', // 0xE0
    '\u{0154}', '\u{00DA}', '\u{0155}', '\u{0170}', '\u{00FD}', '\u{00DD}', '\u{0163}',
    '\u{00B4}', // 0xE8
    '\u{00AD}', '\u{02DD}', '\u{02DB}', '\u{02C7}', '\u{02D8}', '\u{00A7}', '\u{00F7}',
    '\u{00B8}', // 0xF0
    '\u{00B0}', '\u{00A8}', '\u{02D9}', '\u{0171}', '\u{0158}', '\u{0159}', '\u{25A0}',
    '\u{00A0}', // 0xF8
];

/// Bytes 0x80-0xFF of WPC1250 (generated from Python's `cp1250` codec); `\0` marks a byte the table leaves undefined.
const WPC1250: [char; 128] = [
    '\u{20AC}', '\0', '\u{201A}', '\0', '\u{201E}', '\u{2026}', '\u{2020}',
    '\u{2021}', // 0x80
    '\0', '\u{2030}', '\u{0160}', '\u{2039}', '\u{015A}', '\u{0164}', '\u{017D}',
    '\u{0179}', // 0x88
    '\0', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}',
    '\u{2014}', // 0x90
    '\0', '\u{2122}', '\u{0161}', '\u{203A}', '\u{015B}', '\u{0165}', '\u{017E}',
    '\u{017A}', // 0x98
    '\u{00A0}', '\u{02C7}', '\u{02D8}', '\u{0141}', '\u{00A4}', '\u{0104}', '\u{00A6}',
    '\u{00A7}', // 0xA0
    '\u{00A8}', '\u{00A9}', '\u{015E}', '\u{00AB}', '\u{00AC}', '\u{00AD}', '\u{00AE}',
    '\u{017B}', // 0xA8
    '\u{00B0}', '\u{00B1}', '\u{02DB}', '\u{0142}', '\u{00B4}', '\u{00B5}', '\u{00B6}',
    '\u{00B7}', // 0xB0
    '\u{00B8}', '\u{0105}', '\u{015F}', '\u{00BB}', '\u{013D}', '\u{02DD}', '\u{013E}',
    '\u{017C}', // 0xB8
    '\u{0154}', '\u{00C1}', '\u{00C2}', '\u{0102}', '\u{00C4}', '\u{0139}', '\u{0106}',
    '\u{00C7}', // 0xC0
    '\u{010C}', '\u{00C9}', '\u{0118}', '\u{00CB}', '\u{011A}', '\u{00CD}', '\u{00CE}',
    '\u{010E}', // 0xC8
    '\u{0110}', '\u{0143}', '\u{0147}', '\u{00D3}', '\u{00D4}', '\u{0150}', '\u{00D6}',
    '\u{00D7}', // 0xD0
    '\u{0158}', '\u{016E}', '\u{00DA}', '\u{0170}', '\u{00DC}', '\u{00DD}', '\u{0162}',
    '\u{00DF}', // 0xD8
    '\u{0155}', '\u{00E1}', '\u{00E2}', '\u{0103}', '\u{00E4}', '\u{013A}', '\u{0107}',
    '\u{00E7}', // 0xE0
    '\u{010D}', '\u{00E9}', '\u{0119}', '\u{00EB}', '\u{011B}', '\u{00ED}', '\u{00EE}',
    '\u{010F}', // 0xE8
    '\u{0111}', '\u{0144}', '\u{0148}', '\u{00F3}', '\u{00F4}', '\u{0151}', '\u{00F6}',
    '\u{00F7}', // 0xF0
    '\u{0159}', '\u{016F}', '\u{00FA}', '\u{0171}', '\u{00FC}', '\u{00FD}', '\u{0163}',
    '\u{02D9}', // 0xF8
];

/// Bytes 0x80-0xFF of ISO8859_2 (generated from Python's `iso8859_2` codec); `\0` marks a byte the table leaves undefined.
const ISO8859_2: [char; 128] = [
    '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', // 0x80
    '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', // 0x88
    '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', // 0x90
    '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', // 0x98
    '\u{00A0}', '\u{0104}', '\u{02D8}', '\u{0141}', '\u{00A4}', '\u{013D}', '\u{015A}',
    '\u{00A7}', // 0xA0
    '\u{00A8}', '\u{0160}', '\u{015E}', '\u{0164}', '\u{0179}', '\u{00AD}', '\u{017D}',
    '\u{017B}', // 0xA8
    '\u{00B0}', '\u{0105}', '\u{02DB}', '\u{0142}', '\u{00B4}', '\u{013E}', '\u{015B}',
    '\u{02C7}', // 0xB0
    '\u{00B8}', '\u{0161}', '\u{015F}', '\u{0165}', '\u{017A}', '\u{02DD}', '\u{017E}',
    '\u{017C}', // 0xB8
    '\u{0154}', '\u{00C1}', '\u{00C2}', '\u{0102}', '\u{00C4}', '\u{0139}', '\u{0106}',
    '\u{00C7}', // 0xC0
    '\u{010C}', '\u{00C9}', '\u{0118}', '\u{00CB}', '\u{011A}', '\u{00CD}', '\u{00CE}',
    '\u{010E}', // 0xC8
    '\u{0110}', '\u{0143}', '\u{0147}', '\u{00D3}', '\u{00D4}', '\u{0150}', '\u{00D6}',
    '\u{00D7}', // 0xD0
    '\u{0158}', '\u{016E}', '\u{00DA}', '\u{0170}', '\u{00DC}', '\u{00DD}', '\u{0162}',
    '\u{00DF}', // 0xD8
    '\u{0155}', '\u{00E1}', '\u{00E2}', '\u{0103}', '\u{00E4}', '\u{013A}', '\u{0107}',
    '\u{00E7}', // 0xE0
    '\u{010D}', '\u{00E9}', '\u{0119}', '\u{00EB}', '\u{011B}', '\u{00ED}', '\u{00EE}',
    '\u{010F}', // 0xE8
    '\u{0111}', '\u{0144}', '\u{0148}', '\u{00F3}', '\u{00F4}', '\u{0151}', '\u{00F6}',
    '\u{00F7}', // 0xF0
    '\u{0159}', '\u{016F}', '\u{00FA}', '\u{0171}', '\u{00FC}', '\u{00FD}', '\u{0163}',
    '\u{02D9}', // 0xF8
];

/// Bytes 0x80-0xFF of CP866 (generated from Python's `cp866` codec); `\0` marks a byte the table leaves undefined.
const CP866: [char; 128] = [
    '\u{0410}', '\u{0411}', '\u{0412}', '\u{0413}', '\u{0414}', '\u{0415}', '\u{0416}',
    '\u{0417}', // 0x80
    '\u{0418}', '\u{0419}', '\u{041A}', '\u{041B}', '\u{041C}', '\u{041D}', '\u{041E}',
    '\u{041F}', // 0x88
    '\u{0420}', '\u{0421}', '\u{0422}', '\u{0423}', '\u{0424}', '\u{0425}', '\u{0426}',
    '\u{0427}', // 0x90
    '\u{0428}', '\u{0429}', '\u{042A}', '\u{042B}', '\u{042C}', '\u{042D}', '\u{042E}',
    '\u{042F}', // 0x98
    '\u{0430}', '\u{0431}', '\u{0432}', '\u{0433}', '\u{0434}', '\u{0435}', '\u{0436}',
    '\u{0437}', // 0xA0
    '\u{0438}', '\u{0439}', '\u{043A}', '\u{043B}', '\u{043C}', '\u{043D}', '\u{043E}',
    '\u{043F}', // 0xA8
    '\u{2591}', '\u{2592}', '\u{2593}', '\u{2502}', '\u{2524}', '\u{2561}', '\u{2562}',
    '\u{2556}', // 0xB0
    '\u{2555}', '\u{2563}', '\u{2551}', '\u{2557}', '\u{255D}', '\u{255C}', '\u{255B}',
    '\u{2510}', // 0xB8
    '\u{2514}', '\u{2534}', '\u{252C}', '\u{251C}', '\u{2500}', '\u{253C}', '\u{255E}',
    '\u{255F}', // 0xC0
    '\u{255A}', '\u{2554}', '\u{2569}', '\u{2566}', '\u{2560}', '\u{2550}', '\u{256C}',
    '\u{2567}', // 0xC8
    '\u{2568}', '\u{2564}', '\u{2565}', '\u{2559}', '\u{2558}', '\u{2552}', '\u{2553}',
    '\u{256B}', // 0xD0
    '\u{256A}', '\u{2518}', '\u{250C}', '\u{2588}', '\u{2584}', '\u{258C}', '\u{2590}',
    '\u{2580}', // 0xD8
    '\u{0440}', '\u{0441}', '\u{0442}', '\u{0443}', '\u{0444}', '\u{0445}', '\u{0446}',
    '\u{0447}', // 0xE0
    '\u{0448}', '\u{0449}', '\u{044A}', '\u{044B}', '\u{044C}', '\u{044D}', '\u{044E}',
    '\u{044F}', // 0xE8
    '\u{0401}', '\u{0451}', '\u{0404}', '\u{0454}', '\u{0407}', '\u{0457}', '\u{040E}',
    '\u{045E}', // 0xF0
    '\u{00B0}', '\u{2219}', '\u{00B7}', '\u{221A}', '\u{2116}', '\u{00A4}', '\u{25A0}',
    '\u{00A0}', // 0xF8
];

/// Bytes 0x80-0xFF of WPC1251 (generated from Python's `cp1251` codec); `\0` marks a byte the table leaves undefined.
const WPC1251: [char; 128] = [
    '\u{0402}', '\u{0403}', '\u{201A}', '\u{0453}', '\u{201E}', '\u{2026}', '\u{2020}',
    '\u{2021}', // 0x80
    '\u{20AC}', '\u{2030}', '\u{0409}', '\u{2039}', '\u{040A}', '\u{040C}', '\u{040B}',
    '\u{040F}', // 0x88
    '\u{0452}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}',
    '\u{2014}', // 0x90
    '\0', '\u{2122}', '\u{0459}', '\u{203A}', '\u{045A}', '\u{045C}', '\u{045B}',
    '\u{045F}', // 0x98
    '\u{00A0}', '\u{040E}', '\u{045E}', '\u{0408}', '\u{00A4}', '\u{0490}', '\u{00A6}',
    '\u{00A7}', // 0xA0
    '\u{0401}', '\u{00A9}', '\u{0404}', '\u{00AB}', '\u{00AC}', '\u{00AD}', '\u{00AE}',
    '\u{0407}', // 0xA8
    '\u{00B0}', '\u{00B1}', '\u{0406}', '\u{0456}', '\u{0491}', '\u{00B5}', '\u{00B6}',
    '\u{00B7}', // 0xB0
    '\u{0451}', '\u{2116}', '\u{0454}', '\u{00BB}', '\u{0458}', '\u{0405}', '\u{0455}',
    '\u{0457}', // 0xB8
    '\u{0410}', '\u{0411}', '\u{0412}', '\u{0413}', '\u{0414}', '\u{0415}', '\u{0416}',
    '\u{0417}', // 0xC0
    '\u{0418}', '\u{0419}', '\u{041A}', '\u{041B}', '\u{041C}', '\u{041D}', '\u{041E}',
    '\u{041F}', // 0xC8
    '\u{0420}', '\u{0421}', '\u{0422}', '\u{0423}', '\u{0424}', '\u{0425}', '\u{0426}',
    '\u{0427}', // 0xD0
    '\u{0428}', '\u{0429}', '\u{042A}', '\u{042B}', '\u{042C}', '\u{042D}', '\u{042E}',
    '\u{042F}', // 0xD8
    '\u{0430}', '\u{0431}', '\u{0432}', '\u{0433}', '\u{0434}', '\u{0435}', '\u{0436}',
    '\u{0437}', // 0xE0
    '\u{0438}', '\u{0439}', '\u{043A}', '\u{043B}', '\u{043C}', '\u{043D}', '\u{043E}',
    '\u{043F}', // 0xE8
    '\u{0440}', '\u{0441}', '\u{0442}', '\u{0443}', '\u{0444}', '\u{0445}', '\u{0446}',
    '\u{0447}', // 0xF0
    '\u{0448}', '\u{0449}', '\u{044A}', '\u{044B}', '\u{044C}', '\u{044D}', '\u{044E}',
    '\u{044F}', // 0xF8
];

/// Bytes 0x80-0xFF of PC1125 (generated from Python's `cp1125` codec); `\0` marks a byte the table leaves undefined.
const PC1125: [char; 128] = [
    '\u{0410}', '\u{0411}', '\u{0412}', '\u{0413}', '\u{0414}', '\u{0415}', '\u{0416}',
    '\u{0417}', // 0x80
    '\u{0418}', '\u{0419}', '\u{041A}', '\u{041B}', '\u{041C}', '\u{041D}', '\u{041E}',
    '\u{041F}', // 0x88
    '\u{0420}', '\u{0421}', '\u{0422}', '\u{0423}', '\u{0424}', '\u{0425}', '\u{0426}',
    '\u{0427}', // 0x90
    '\u{0428}', '\u{0429}', '\u{042A}', '\u{042B}', '\u{042C}', '\u{042D}', '\u{042E}',
    '\u{042F}', // 0x98
    '\u{0430}', '\u{0431}', '\u{0432}', '\u{0433}', '\u{0434}', '\u{0435}', '\u{0436}',
    '\u{0437}', // 0xA0
    '\u{0438}', '\u{0439}', '\u{043A}', '\u{043B}', '\u{043C}', '\u{043D}', '\u{043E}',
    '\u{043F}', // 0xA8
    '\u{2591}', '\u{2592}', '\u{2593}', '\u{2502}', '\u{2524}', '\u{2561}', '\u{2562}',
    '\u{2556}', // 0xB0
    '\u{2555}', '\u{2563}', '\u{2551}', '\u{2557}', '\u{255D}', '\u{255C}', '\u{255B}',
    '\u{2510}', // 0xB8
    '\u{2514}', '\u{2534}', '\u{252C}', '\u{251C}', '\u{2500}', '\u{253C}', '\u{255E}',
    '\u{255F}', // 0xC0
    '\u{255A}', '\u{2554}', '\u{2569}', '\u{2566}', '\u{2560}', '\u{2550}', '\u{256C}',
    '\u{2567}', // 0xC8
    '\u{2568}', '\u{2564}', '\u{2565}', '\u{2559}', '\u{2558}', '\u{2552}', '\u{2553}',
    '\u{256B}', // 0xD0
    '\u{256A}', '\u{2518}', '\u{250C}', '\u{2588}', '\u{2584}', '\u{258C}', '\u{2590}',
    '\u{2580}', // 0xD8
    '\u{0440}', '\u{0441}', '\u{0442}', '\u{0443}', '\u{0444}', '\u{0445}', '\u{0446}',
    '\u{0447}', // 0xE0
    '\u{0448}', '\u{0449}', '\u{044A}', '\u{044B}', '\u{044C}', '\u{044D}', '\u{044E}',
    '\u{044F}', // 0xE8
    '\u{0401}', '\u{0451}', '\u{0490}', '\u{0491}', '\u{0404}', '\u{0454}', '\u{0406}',
    '\u{0456}', // 0xF0
    '\u{0407}', '\u{0457}', '\u{00B7}', '\u{221A}', '\u{2116}', '\u{00A4}', '\u{25A0}',
    '\u{00A0}', // 0xF8
];

#[cfg(test)]
mod tests {
    use super::*;

    const POLISH: &str = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ";
    const UKRAINIAN: &str = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюяАБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ";

    #[test]
    fn every_latin2_page_has_every_polish_letter_and_round_trips() {
        for page in [CodePage::Cp852, CodePage::Wpc1250, CodePage::Iso8859_2] {
            for c in POLISH.chars() {
                let b = page.encode(c).unwrap_or_else(|| panic!("{page} lacks {c}"));
                assert!(b >= 0x80);
                assert_eq!(page.decode(b), Some(c), "{page} {c}");
            }
        }
        // Known positions, checked against the published tables.
        assert_eq!(CodePage::Cp852.encode('ą'), Some(0xA5));
        assert_eq!(CodePage::Cp852.encode('Ł'), Some(0x9D));
        assert_eq!(CodePage::Wpc1250.encode('ś'), Some(0x9C));
        assert_eq!(CodePage::Wpc1250.encode('ż'), Some(0xBF));
        assert_eq!(CodePage::Iso8859_2.encode('ą'), Some(0xB1));
    }

    #[test]
    fn cyrillic_pages_carry_ukrainian_except_cp866_i_and_ghe() {
        for page in [CodePage::Wpc1251, CodePage::Pc1125] {
            for c in UKRAINIAN.chars() {
                let b = page.encode(c).unwrap_or_else(|| panic!("{page} lacks {c}"));
                assert_eq!(page.decode(b), Some(c));
            }
        }
        let missing: String = UKRAINIAN
            .chars()
            .filter(|&c| CodePage::Cp866.encode(c).is_none())
            .collect();
        assert_eq!(missing, "ґіҐІ");
        for c in missing.chars() {
            let look_alike = fallback(c).unwrap_or_default();
            assert!(
                look_alike
                    .chars()
                    .all(|l| CodePage::Cp866.encode(l).is_some())
            );
        }
        assert_eq!(CodePage::Wpc1251.encode('ї'), Some(0xBF));
        assert_eq!(CodePage::Cp866.encode('Я'), Some(0x9F));
    }

    #[test]
    fn every_ukrainian_letter_has_a_latin_transliteration() {
        for c in UKRAINIAN.chars() {
            let latin =
                cyrillic_to_latin(c).unwrap_or_else(|| panic!("no transliteration for {c}"));
            assert!(latin.is_ascii());
        }
        let word: String = "Київ"
            .chars()
            .filter_map(cyrillic_to_latin)
            .collect::<Vec<_>>()
            .concat();
        assert_eq!(word, "Kyiv");
    }

    #[test]
    fn controls_and_undefined_bytes_decode_to_nothing() {
        assert_eq!(CodePage::Wpc1250.decode(0x81), None);
        assert_eq!(CodePage::Iso8859_2.decode(0x85), None);
        assert_eq!(CodePage::Cp852.decode(0x0A), None);
        assert_eq!(CodePage::Cp852.encode('\0'), None);
    }
}
