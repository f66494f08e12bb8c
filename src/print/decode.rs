//! Reads an ESC/POS stream back into what the paper would show: text lines (tracking the
//! printer's table switches, so each byte is read with the table the printer would use),
//! images, QR codes and cuts. Used by the tests (to prove that Polish and Ukrainian survive
//! the trip) and by the virtual printer for its `.txt` and `.png` previews.
//!
//! The reader knows the commands kolejka sends and the common ones around them; any other
//! byte below 0x20 is skipped. It never fails: a truncated command ends the stream with a
//! note, so a preview of a broken job still shows what came before the break.

use super::codepage::CodePage;
use super::profile::Profile;
use super::raster::{self, Bitmap, TextStyle};

/// One thing the printer would print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// One line of text, with the style it started in.
    Text {
        text: String,
        bold: bool,
        double_width: bool,
        double_height: bool,
        center: bool,
    },
    /// A raster image (consecutive `GS v 0` bands of one width are joined).
    Image(Bitmap),
    /// A QR code the printer draws itself, with its data.
    Qr(String),
    /// Blank lines fed (`ESC d n`).
    Feed(u8),
    Cut,
    /// The stream ended inside a command.
    Truncated(&'static str),
}

/// The printed text of an ESC/POS stream: one line per printed line, images as
/// `[image WxH]`, native QR codes as `[QR: data]`, cuts as `[cut]`.
pub fn decode_text(profile: &Profile, bytes: &[u8]) -> String {
    let mut out = String::new();
    for piece in decode(profile, bytes) {
        match piece {
            Piece::Text { text, .. } => out.push_str(&text),
            Piece::Image(b) => out.push_str(&format!("[image {}x{}]", b.width, b.height)),
            Piece::Qr(data) => out.push_str(&format!("[QR: {data}]")),
            Piece::Feed(n) => {
                // Each fed line is an empty line; the feed itself ends no line.
                out.extend(std::iter::repeat_n('\n', usize::from(n)));
                continue;
            }
            Piece::Cut => out.push_str("[cut]"),
            Piece::Truncated(what) => out.push_str(&format!("[truncated {what}]")),
        }
        out.push('\n');
    }
    out
}

/// The pieces of an ESC/POS stream, in order.
pub fn decode(profile: &Profile, bytes: &[u8]) -> Vec<Piece> {
    let mut d = Decoder {
        profile,
        pieces: Vec::new(),
        line: String::new(),
        line_style: None,
        state: State::default(),
        qr_data: String::new(),
    };
    d.run(bytes);
    d.pieces
}

#[derive(Debug, Clone, Copy, Default)]
struct State {
    /// `None` after a reset or for a table number the profile does not use: its bytes above
    /// 0x7F are unknown and read as U+FFFD.
    table: Option<CodePage>,
    bold: bool,
    double_width: bool,
    double_height: bool,
    center: bool,
}

struct Decoder<'p> {
    profile: &'p Profile,
    pieces: Vec<Piece>,
    line: String,
    /// The style the current line started in.
    line_style: Option<State>,
    state: State,
    qr_data: String,
}

impl Decoder<'_> {
    fn char(&mut self, c: char) {
        if self.line_style.is_none() {
            self.line_style = Some(self.state);
        }
        self.line.push(c);
    }

    fn end_line(&mut self) {
        let s = self.line_style.take().unwrap_or(self.state);
        self.pieces.push(Piece::Text {
            text: std::mem::take(&mut self.line),
            bold: s.bold,
            double_width: s.double_width,
            double_height: s.double_height,
            center: s.center,
        });
    }

    /// Ends a line that has text in it (before an image, a cut or the end of the stream, which
    /// print what is buffered).
    fn flush_line(&mut self) {
        if !self.line.is_empty() {
            self.end_line();
        }
    }

    fn image(&mut self, bitmap: Bitmap) {
        self.flush_line();
        if let Some(Piece::Image(last)) = self.pieces.last_mut()
            && last.width == bitmap.width
        {
            last.height += bitmap.height;
            last.dots.extend(bitmap.dots);
            return;
        }
        self.pieces.push(Piece::Image(bitmap));
    }

    fn run(&mut self, bytes: &[u8]) {
        let command = self.profile.codepage_command.clone();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            // The profile's code-page command first: it may not be ESC t.
            if !command.is_empty() && bytes[i..].starts_with(&command) {
                match bytes.get(i + command.len()) {
                    Some(&n) => {
                        self.state.table = self.profile.page_for_number(n);
                        i += command.len() + 1;
                        continue;
                    }
                    None => return self.truncated("code-page command"),
                }
            }
            let arg = |k: usize| bytes.get(i + k).copied();
            match b {
                b'\n' => {
                    self.end_line();
                    i += 1;
                }
                b'\t' => {
                    self.char(' ');
                    i += 1;
                }
                0x20..=0x7E => {
                    self.char(char::from(b));
                    i += 1;
                }
                0x80..=0xFF => {
                    let c = self
                        .state
                        .table
                        .and_then(|t| t.decode(b))
                        .unwrap_or('\u{FFFD}');
                    self.char(c);
                    i += 1;
                }
                0x1B => match self.esc(bytes, i) {
                    Some(next) => i = next,
                    None => return self.truncated("ESC command"),
                },
                0x1D => match self.gs(bytes, i) {
                    Some(next) => i = next,
                    None => return self.truncated("GS command"),
                },
                0x1C => {
                    // FS . and FS & (leave / enter the double-byte mode) take no argument;
                    // FS C n and FS p n m do.
                    i += match arg(1) {
                        Some(b'C') => 3,
                        Some(b'p') => 4,
                        _ => 2,
                    };
                }
                0x10 => {
                    // DLE EOT n (status) and DLE ENQ n; DLE DC4 fn a b.
                    i += match arg(1) {
                        Some(0x14) => 5,
                        _ => 3,
                    };
                }
                _ => i += 1,
            }
        }
        self.flush_line();
    }

    fn truncated(&mut self, what: &'static str) {
        self.flush_line();
        self.pieces.push(Piece::Truncated(what));
    }

    /// An `ESC` command at `i`; returns where the next command starts.
    fn esc(&mut self, bytes: &[u8], i: usize) -> Option<usize> {
        let code = *bytes.get(i + 1)?;
        let n = bytes.get(i + 2).copied();
        Some(match code {
            b'@' => {
                self.flush_line();
                self.state = State::default();
                i + 2
            }
            b't' => {
                self.state.table = self.profile.page_for_number(n?);
                i + 3
            }
            b'a' => {
                self.state.center = matches!(n?, 1 | b'1');
                i + 3
            }
            b'E' | b'G' => {
                self.state.bold = n? & 1 == 1;
                i + 3
            }
            b'!' => {
                let n = n?;
                self.state.bold = n & 0x08 != 0;
                self.state.double_height = n & 0x10 != 0;
                self.state.double_width = n & 0x20 != 0;
                i + 3
            }
            b'd' => {
                self.flush_line();
                self.pieces.push(Piece::Feed(n?));
                i + 3
            }
            b'2' | b'<' => i + 2,
            b'p' => {
                bytes.get(i + 4)?;
                i + 5
            }
            b'*' => {
                // ESC * m nL nH d...: an old-style bit image, 1 or 3 bytes per column.
                let m = n?;
                let columns =
                    usize::from(*bytes.get(i + 3)?) + 256 * usize::from(*bytes.get(i + 4)?);
                let per_column = if m >= 32 { 3 } else { 1 };
                let end = i + 5 + columns * per_column;
                if end > bytes.len() {
                    return None;
                }
                self.flush_line();
                self.pieces
                    .push(Piece::Image(Bitmap::new(columns, per_column * 8)));
                end
            }
            // One-argument commands: underline, font, line spacing, feed in dots, character
            // set, rotation, upside down, paper sensors, panel buttons.
            b'-' | b'M' | b'3' | b'J' | b'R' | b'V' | b'{' | b'U' | b'c' | b'r' | b' ' => {
                n?;
                i + 3
            }
            _ => i + 2,
        })
    }

    /// A `GS` command at `i`; returns where the next command starts.
    fn gs(&mut self, bytes: &[u8], i: usize) -> Option<usize> {
        let code = *bytes.get(i + 1)?;
        let n = bytes.get(i + 2).copied();
        Some(match code {
            b'!' => {
                let n = n?;
                self.state.double_width = n & 0xF0 != 0;
                self.state.double_height = n & 0x0F != 0;
                i + 3
            }
            b'V' => {
                let m = n?;
                self.flush_line();
                self.pieces.push(Piece::Cut);
                if matches!(m, 65 | 66 | 97 | 98 | 103 | 104) {
                    bytes.get(i + 3)?;
                    i + 4
                } else {
                    i + 3
                }
            }
            b'v' => {
                // GS v 0 m xL xH yL yH d...
                let header = bytes.get(i + 3..i + 8)?;
                let width_bytes = usize::from(header[1]) + 256 * usize::from(header[2]);
                let height = usize::from(header[3]) + 256 * usize::from(header[4]);
                let data = bytes.get(i + 8..i + 8 + width_bytes * height)?;
                let mut bitmap = Bitmap::new(width_bytes * 8, height);
                for (k, byte) in data.iter().enumerate() {
                    for bit in 0..8 {
                        if byte & (0x80 >> bit) != 0 {
                            bitmap.set((k % width_bytes) * 8 + bit, k / width_bytes);
                        }
                    }
                }
                self.image(bitmap);
                i + 8 + width_bytes * height
            }
            b'(' => {
                // GS ( x pL pH d...: the 2D codes (k), graphics (L) and others.
                let kind = n?;
                let len = usize::from(*bytes.get(i + 3)?) + 256 * usize::from(*bytes.get(i + 4)?);
                let body = bytes.get(i + 5..i + 5 + len)?;
                if kind == b'k' && body.first() == Some(&49) {
                    match body.get(1) {
                        Some(80) => {
                            self.qr_data =
                                String::from_utf8_lossy(body.get(3..).unwrap_or(&[])).into_owned();
                        }
                        Some(81) => {
                            self.flush_line();
                            self.pieces.push(Piece::Qr(self.qr_data.clone()));
                        }
                        _ => {}
                    }
                }
                i + 5 + len
            }
            b'k' => {
                // GS k m d... NUL (m <= 6) or GS k m n d1...dn (m >= 65): a barcode.
                let m = n?;
                if m <= 6 {
                    let rest = bytes.get(i + 3..)?;
                    let nul = rest.iter().position(|&b| b == 0)?;
                    i + 3 + nul + 1
                } else {
                    let len = usize::from(*bytes.get(i + 3)?);
                    if i + 4 + len > bytes.len() {
                        return None;
                    }
                    i + 4 + len
                }
            }
            b'L' | b'W' => {
                bytes.get(i + 3)?;
                i + 4
            }
            b'B' | b'b' | b'H' | b'f' | b'h' | b'w' | b'a' | b'r' | b'I' => {
                n?;
                i + 3
            }
            _ => i + 2,
        })
    }
}

/// A picture of the printed ticket (black on white, the printer's width plus a margin), as a
/// PNG file; for the virtual printer.
pub fn preview_png(profile: &Profile, bytes: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let width = usize::from(profile.width_dots);
    let mut blocks: Vec<Bitmap> = Vec::new();
    let font = raster::font();
    for piece in decode(profile, bytes) {
        match piece {
            Piece::Text {
                text,
                bold,
                double_width,
                double_height,
                center,
            } => {
                let px = match (double_width, double_height) {
                    (true, _) => 44,
                    (false, true) => 30,
                    (false, false) => 22,
                };
                let mut style = TextStyle { px, bold, center };
                match font {
                    Some(font) if !text.is_empty() => {
                        // The printer's font is narrower than ours: shrink a line to fit.
                        while style.px > 12 && raster::text_width(font, &text, style) > width {
                            style.px -= 1;
                        }
                        blocks.push(raster::draw_lines(font, &[text], style, width));
                    }
                    _ => blocks.push(Bitmap::new(width, usize::from(px) + 4)),
                }
            }
            Piece::Image(b) => blocks.push(b),
            Piece::Qr(data) => {
                if let Some(b) =
                    raster::qr_bitmap(&data, usize::from(profile.qr_module_dots), width)
                {
                    blocks.push(b);
                }
            }
            Piece::Feed(n) => blocks.push(Bitmap::new(width, 26 * usize::from(n))),
            Piece::Cut | Piece::Truncated(_) => {
                let mut line = Bitmap::new(width, 9);
                for x in (0..width).filter(|x| x % 12 < 6) {
                    line.set(x, 4);
                }
                blocks.push(line);
            }
        }
    }
    let margin = 16;
    let canvas_width = width + 2 * margin;
    let height = blocks.iter().map(|b| b.height).sum::<usize>() + 2 * margin;
    let mut gray = vec![255u8; canvas_width * height];
    let mut top = margin;
    for b in &blocks {
        for y in 0..b.height {
            for x in 0..b.width.min(width) {
                if b.get(x, y)
                    && let Some(p) = gray.get_mut((top + y) * canvas_width + margin + x)
                {
                    *p = 0;
                }
            }
        }
        top += b.height;
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(
            &mut out,
            u32::try_from(canvas_width).unwrap_or(u32::MAX),
            u32::try_from(height).unwrap_or(u32::MAX),
        );
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&gray)?;
        writer.finish()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::profile::builtin_profile;

    fn epson() -> Profile {
        builtin_profile("epson-tm-t88").expect("built in")
    }

    #[test]
    fn table_switches_are_tracked() {
        // ESC t 18 (PC852) "ą", ESC t 46 (WPC1251) "ї", LF.
        let bytes = [0x1B, 0x74, 18, 0xA5, 0x1B, 0x74, 46, 0xBF, b'\n'];
        assert_eq!(decode_text(&epson(), &bytes), "ąї\n");
    }

    #[test]
    fn unknown_tables_and_truncated_commands_do_not_panic() {
        let p = epson();
        assert_eq!(decode_text(&p, &[0x1B, 0x74, 99, 0xA5]), "\u{FFFD}\n");
        for bytes in [
            &[0x1B][..],
            &[0x1D, 0x76, 0x30, 0, 10, 0, 10, 0, 1, 2],
            &[0x1D, 0x28, 0x6B, 200, 0, 49],
            &[0x1D, 0x6B, 4, b'1'],
            &[0x1D, 0x6B, 73, 200, 1],
        ] {
            let text = decode_text(&p, bytes);
            assert!(text.contains("[truncated"), "{bytes:?}: {text}");
        }
    }

    #[test]
    fn images_cuts_and_qr_codes_are_placeholders() {
        let p = epson();
        let mut bytes = vec![b'a', 0x1D, 0x76, 0x30, 0, 2, 0, 3, 0];
        bytes.extend([0xFF; 6]);
        bytes.extend([0x1D, 0x76, 0x30, 0, 2, 0, 1, 0, 0, 0]);
        bytes.extend([0x1D, 0x28, 0x6B, 6, 0, 49, 80, 48, b'u', b'r', b'l']);
        bytes.extend([0x1D, 0x28, 0x6B, 3, 0, 49, 81, 48]);
        bytes.extend([0x1D, 0x56, 0x01]);
        assert_eq!(
            decode_text(&p, &bytes),
            "a\n[image 16x4]\n[QR: url]\n[cut]\n"
        );
    }

    #[test]
    fn a_preview_png_is_made() {
        let p = epson();
        let png = preview_png(&p, b"\x1b\x40Kolejka\n\x1d\x56\x01").expect("png");
        assert!(png.starts_with(b"\x89PNG"));
    }
}
