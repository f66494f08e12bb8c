//! Black-and-white images for the printer: text drawn with the bundled font (for Cyrillic on a
//! printer whose profile says `ukrainian = "raster"`) and QR codes drawn by us (for a printer
//! without the native QR command), sent as `GS v 0` raster blocks, which every ESC/POS printer
//! understands whatever its character tables.
//!
//! The font is DejaVu Sans (`fonts/DejaVuSans.ttf`, licence in `fonts/DejaVu-LICENSE.txt`),
//! built into the binary: it has every Polish and Ukrainian letter.

use std::sync::LazyLock;

use fontdue::{Font, FontSettings};

/// A 1-bit image, one `bool` per dot, `true` for black.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: usize,
    pub height: usize,
    pub dots: Vec<bool>,
}

impl Bitmap {
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            dots: vec![false; width * height],
        }
    }

    pub fn get(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.dots.get(y * self.width + x) == Some(&true)
    }

    pub fn set(&mut self, x: usize, y: usize) {
        if x < self.width
            && y < self.height
            && let Some(d) = self.dots.get_mut(y * self.width + x)
        {
            *d = true;
        }
    }

    /// The `GS v 0` commands that print this image, in bands of at most `BAND_ROWS` rows
    /// (cheap printers have small buffers). The width is rounded up to whole bytes.
    pub fn to_escpos(&self) -> Vec<u8> {
        let bytes_per_row = self.width.div_ceil(8);
        let mut out = Vec::with_capacity(bytes_per_row * self.height + 16);
        let mut top = 0;
        while top < self.height {
            let rows = (self.height - top).min(BAND_ROWS);
            let [xl, xh] = u16::try_from(bytes_per_row)
                .unwrap_or(u16::MAX)
                .to_le_bytes();
            let [yl, yh] = u16::try_from(rows).unwrap_or(u16::MAX).to_le_bytes();
            out.extend_from_slice(&[0x1D, 0x76, 0x30, 0x00, xl, xh, yl, yh]);
            for y in top..top + rows {
                for bx in 0..bytes_per_row {
                    let mut byte = 0u8;
                    for bit in 0..8 {
                        if self.get(bx * 8 + bit, y) {
                            byte |= 0x80 >> bit;
                        }
                    }
                    out.push(byte);
                }
            }
            top += rows;
        }
        out
    }
}

/// The most rows sent in one `GS v 0` command.
pub const BAND_ROWS: usize = 240;

static FONT: LazyLock<Option<Font>> = LazyLock::new(|| {
    Font::from_bytes(
        include_bytes!("fonts/DejaVuSans.ttf") as &[u8],
        FontSettings::default(),
    )
    .ok()
});

/// The bundled font, or `None` if it could not be parsed (a unit test proves it can; the
/// renderer then transliterates instead of drawing).
pub fn font() -> Option<&'static Font> {
    FONT.as_ref()
}

/// How a line of raster text is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextStyle {
    /// Font size in pixels (dots).
    pub px: u16,
    pub bold: bool,
    pub center: bool,
}

/// The width in dots of a text in a style.
pub fn text_width(font: &Font, text: &str, style: TextStyle) -> usize {
    let px = f32::from(style.px);
    let w: f32 = text
        .chars()
        .map(|c| font.metrics(c, px).advance_width)
        .sum();
    w.ceil() as usize + usize::from(style.bold)
}

/// Splits a paragraph into lines that fit `width` dots, breaking between words (a word longer
/// than a line is broken between characters).
pub fn wrap_dots(font: &Font, text: &str, style: TextStyle, width: usize) -> Vec<String> {
    super::render::wrap_by(text, width, |s| text_width(font, s, style))
}

/// Draws lines of text, each `line_height` dots high, into an image `width` dots wide.
pub fn draw_lines(font: &Font, lines: &[String], style: TextStyle, width: usize) -> Bitmap {
    let px = f32::from(style.px);
    let (ascent, line_height) = match font.horizontal_line_metrics(px) {
        Some(m) => (m.ascent, (m.ascent - m.descent).ceil() as usize + 2),
        None => (px * 0.8, style.px as usize + 4),
    };
    let mut bitmap = Bitmap::new(width, line_height * lines.len());
    for (i, line) in lines.iter().enumerate() {
        let line_width = text_width(font, line, style);
        let mut pen = if style.center {
            width.saturating_sub(line_width) as f32 / 2.0
        } else {
            0.0
        };
        let baseline = i as f32 * line_height as f32 + ascent.round() + 1.0;
        for c in line.chars() {
            let (m, coverage) = font.rasterize(c, px);
            let left = (pen + m.xmin as f32).round() as i64;
            // `ymin` is the distance of the glyph's bottom edge above the baseline.
            let top = (baseline - m.ymin as f32 - m.height as f32).round() as i64;
            for gy in 0..m.height {
                for gx in 0..m.width {
                    if coverage.get(gy * m.width + gx).copied().unwrap_or(0) < 96 {
                        continue;
                    }
                    let (x, y) = (left + gx as i64, top + gy as i64);
                    if x >= 0 && y >= 0 {
                        bitmap.set(x as usize, y as usize);
                        if style.bold {
                            bitmap.set(x as usize + 1, y as usize);
                        }
                    }
                }
            }
            pen += m.advance_width;
        }
    }
    bitmap
}

/// A QR code as an image `width` dots wide, centred, with the standard quiet zone of four
/// modules; the module shrinks until the code fits. `None` if the data does not fit a QR code.
pub fn qr_bitmap(data: &str, module: usize, width: usize) -> Option<Bitmap> {
    let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let module = (1..=module.max(1))
        .rev()
        .find(|m| (modules + 2 * quiet) * m <= width)?;
    let size = (modules + 2 * quiet) * module;
    let left = (width - size) / 2;
    let mut bitmap = Bitmap::new(width, size);
    for my in 0..modules {
        for mx in 0..modules {
            if colors.get(my * modules + mx) != Some(&qrcode::Color::Dark) {
                continue;
            }
            for dy in 0..module {
                for dx in 0..module {
                    bitmap.set(
                        left + (quiet + mx) * module + dx,
                        (quiet + my) * module + dy,
                    );
                }
            }
        }
    }
    Some(bitmap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_font_has_every_ukrainian_and_polish_letter() {
        let font = font().expect("the bundled font parses");
        for c in "абвгґдеєжзиіїйклмнопрстуфхцчшщьюяҐЄІЇąćęłńóśźżĄĆĘŁŃÓŚŹŻ".chars()
        {
            assert!(font.lookup_glyph_index(c) != 0, "no glyph for {c}");
        }
    }

    #[test]
    fn raster_blocks_have_the_right_header_and_size() {
        let mut b = Bitmap::new(20, 3);
        b.set(0, 0);
        b.set(19, 2);
        let bytes = b.to_escpos();
        assert_eq!(&bytes[..8], &[0x1D, 0x76, 0x30, 0x00, 3, 0, 3, 0]);
        assert_eq!(bytes.len(), 8 + 9);
        assert_eq!(bytes[8], 0x80);
        assert_eq!(bytes[16], 0x10);
    }

    #[test]
    fn tall_images_are_sent_in_bands() {
        let b = Bitmap::new(8, BAND_ROWS + 10);
        let bytes = b.to_escpos();
        assert_eq!(bytes.len(), 8 + BAND_ROWS + 8 + 10);
    }

    #[test]
    fn text_is_drawn_and_wrapped_within_the_width() {
        let font = font().expect("font");
        let style = TextStyle {
            px: 22,
            bold: false,
            center: true,
        };
        let lines = wrap_dots(font, "Реєстрація транспортних засобів і ґанок", style, 200);
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(text_width(font, l, style) <= 200, "{l}");
        }
        let bitmap = draw_lines(font, &lines, style, 200);
        assert!(bitmap.dots.iter().any(|&d| d));
        assert_eq!(bitmap.width, 200);
    }

    #[test]
    fn qr_codes_shrink_to_fit_and_too_long_data_is_refused() {
        let b = qr_bitmap("https://kolejka.example/t/A012", 6, 384).expect("fits");
        assert!(b.width == 384 && b.height <= 384);
        let small = qr_bitmap("https://kolejka.example/t/A012", 6, 120).expect("shrinks");
        assert!(small.height <= 120);
        assert!(qr_bitmap(&"x".repeat(5000), 4, 576).is_none());
    }
}
