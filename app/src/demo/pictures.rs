//! Pictures for the demo city, drawn when it is loaded (nothing is downloaded): a plate on
//! a gradient in colours of the name's own, with the name's initials on it. Restaurants'
//! dishes lie on a round plate, a shop's goods on a square one; no two names look alike.

use image::{ImageFormat, Rgb, RgbImage};
use std::io::Cursor;

const HEIGHT: u32 = 360;
/// A product's picture is 4:3; a merchant's is wider, as the banner across its page.
pub const PRODUCT_WIDTH: u32 = 480;
pub const MERCHANT_WIDTH: u32 = 720;
/// Pixels of the picture for one pixel of a letter.
const SCALE: u32 = 12;

/// Capital letters, 5 pixels wide and 7 high, a row a byte (its lowest 5 bits, the left
/// one highest).
const LETTERS: [[u8; 7]; 26] = [
    [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11], // A
    [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E], // B
    [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E], // C
    [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E], // D
    [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F], // E
    [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10], // F
    [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F], // G
    [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11], // H
    [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E], // I
    [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C], // J
    [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], // K
    [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F], // L
    [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11], // M
    [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11], // N
    [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], // O
    [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10], // P
    [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D], // Q
    [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11], // R
    [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E], // S
    [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04], // T
    [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], // U
    [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04], // V
    [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A], // W
    [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11], // X
    [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04], // Y
    [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F], // Z
];

/// The plate the initials are drawn on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plate {
    Round,
    Square,
}

/// FNV-1a: the same name gives the same colours on every load.
fn hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A colour of `hue` (degrees) at a saturation and lightness between 0 and 1.
fn hsl(hue: f64, saturation: f64, lightness: f64) -> Rgb<u8> {
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let sector = hue.rem_euclid(360.0) / 60.0;
    let second = chroma * (1.0 - (sector % 2.0 - 1.0).abs());
    let (r, g, b) = match sector as u32 {
        0 => (chroma, second, 0.0),
        1 => (second, chroma, 0.0),
        2 => (0.0, chroma, second),
        3 => (0.0, second, chroma),
        4 => (second, 0.0, chroma),
        _ => (chroma, 0.0, second),
    };
    let lift = lightness - chroma / 2.0;
    let channel = |c: f64| ((c + lift) * 255.0).round().clamp(0.0, 255.0) as u8;
    Rgb([channel(r), channel(g), channel(b)])
}

/// Up to two initials: the first letters of the name's words that begin with a capital.
fn initials(name: &str) -> Vec<usize> {
    name.split_whitespace()
        .filter_map(|word| word.bytes().next())
        .filter(u8::is_ascii_uppercase)
        .map(|letter| usize::from(letter - b'A'))
        .take(2)
        .collect()
}

/// Whether the pixel at (`x`, `y`) is ink of the initials, centred on a picture `width` wide.
fn ink(letters: &[usize], width: u32, x: u32, y: u32) -> bool {
    let advance = 6 * SCALE;
    let count = u32::try_from(letters.len()).unwrap_or(0);
    let text = (advance * count).saturating_sub(SCALE);
    let left = width.saturating_sub(text) / 2;
    let top = (HEIGHT - 7 * SCALE) / 2;
    if x < left || y < top || y >= top + 7 * SCALE {
        return false;
    }
    let (index, within) = ((x - left) / advance, (x - left) % advance);
    let column = within / SCALE;
    let row = (y - top) / SCALE;
    match letters.get(index as usize) {
        Some(&letter) if column < 5 => LETTERS[letter][row as usize] & (0x10 >> column) != 0,
        _ => false,
    }
}

/// Whether (`x`, `y`) lies on the plate, in the middle of a picture `width` wide, and on
/// its rim.
fn on_plate(plate: Plate, width: u32, x: u32, y: u32) -> (bool, bool) {
    let dx = f64::from(x) - f64::from(width) / 2.0;
    let dy = f64::from(y) - f64::from(HEIGHT) / 2.0;
    let reach = f64::from(HEIGHT) * 0.4;
    let distance = match plate {
        Plate::Round => dx.hypot(dy),
        Plate::Square => dx.abs().max(dy.abs()),
    };
    (
        distance <= reach,
        distance > reach * 0.88 && distance <= reach,
    )
}

/// The picture of `name`, `width` pixels wide, as a PNG.
///
/// # Errors
/// When it cannot be encoded.
pub fn draw(name: &str, plate: Plate, width: u32) -> Result<Vec<u8>, image::ImageError> {
    let seed = hash(name);
    let hue = (seed % 360) as f64;
    let top = hsl(hue, 0.65, 0.55);
    let bottom = hsl(hue + 40.0, 0.7, 0.35);
    let rim = hsl(hue + 180.0, 0.45, 0.8);
    let letters = initials(name);
    let text = hsl(hue + 200.0, 0.6, 0.25);
    let picture = RgbImage::from_fn(width, HEIGHT, |x, y| {
        let (inside, edge) = on_plate(plate, width, x, y);
        if edge {
            rim
        } else if inside && ink(&letters, width, x, y) {
            text
        } else if inside {
            Rgb([250, 248, 244])
        } else {
            let share = f64::from(y) / f64::from(HEIGHT);
            let mix = |a: u8, b: u8| (f64::from(a) * (1.0 - share) + f64::from(b) * share) as u8;
            Rgb([
                mix(top[0], bottom[0]),
                mix(top[1], bottom[1]),
                mix(top[2], bottom[2]),
            ])
        }
    });
    let mut out = Cursor::new(Vec::new());
    picture.write_to(&mut out, ImageFormat::Png)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_are_the_capitals_that_begin_words() {
        assert_eq!(initials("Pizza Margherita"), [15, 12]);
        assert_eq!(initials("Lasagne al forno"), [11]);
        assert_eq!(initials("Mei's Noodle Bar"), [12, 13]);
        assert_eq!(initials("Oat Milk 1 l"), [14, 12]);
        assert!(initials("ölig").is_empty());
    }

    #[test]
    fn each_name_is_drawn_in_its_own_colours() {
        let margherita = draw("Pizza Margherita", Plate::Round, PRODUCT_WIDTH).unwrap();
        let diavola = draw("Pizza Diavola", Plate::Round, PRODUCT_WIDTH).unwrap();
        assert_ne!(margherita, diavola);
        assert_eq!(
            margherita,
            draw("Pizza Margherita", Plate::Round, PRODUCT_WIDTH).unwrap()
        );
        let decoded = image::load_from_memory(&margherita).unwrap().to_rgb8();
        assert_eq!(decoded.dimensions(), (PRODUCT_WIDTH, HEIGHT));
        // The corner is the gradient, the middle of the plate a letter's ink or the plate.
        assert_ne!(
            decoded.get_pixel(0, 0),
            decoded.get_pixel(PRODUCT_WIDTH / 2, HEIGHT / 2)
        );
    }
}
