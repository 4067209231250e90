//! Pictures of merchants and products: an upload is taken for what its content is, not what
//! it says it is, decoded within limits, turned upright, resized to a full size and a
//! thumbnail and kept as JPEG. Each upload gets a new id, so a picture's URL never shows
//! anything else and may be cached for good.

use super::{AppError, Catalog, CatalogError};
use crate::domain::ImageType;
use crate::domain::picture::{FULL_SIDE, MAX_PIXELS, MAX_SIDE, Owner, Size, THUMB_SIDE};
use crate::store::images;
use crate::store::{merchants, products};
use image::codecs::jpeg::JpegEncoder;
use image::error::ImageError;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use ordo_kernel::Caller;
use std::io::Cursor;
use tracing::instrument;
use uuid::Uuid;

/// What decoding may hold at once: a picture of the most pixels allowed, four bytes each,
/// with room for the decoder's own buffers.
const MAX_DECODED_BYTES: u64 = MAX_PIXELS * 4 + 64 * 1024 * 1024;
const JPEG_QUALITY: u8 = 82;

/// A picture as it is kept: JPEG, in both sizes.
#[derive(Debug)]
pub struct Picture {
    pub full: Vec<u8>,
    pub thumb: Vec<u8>,
}

fn format_of(kind: ImageType) -> ImageFormat {
    match kind {
        ImageType::Jpeg => ImageFormat::Jpeg,
        ImageType::Png => ImageFormat::Png,
        ImageType::Webp => ImageFormat::WebP,
    }
}

/// What the bytes are, by their first bytes: one of the types taken, another kind of
/// picture (its media type), or nothing known.
fn sniff(bytes: &[u8]) -> Result<ImageType, Option<&'static str>> {
    let format = image::guess_format(bytes).map_err(|_| None)?;
    ImageType::ALL
        .into_iter()
        .find(|kind| format_of(*kind) == format)
        .ok_or(Some(format.to_mime_type()))
}

fn decode(kind: ImageType, bytes: &[u8]) -> Result<DynamicImage, CatalogError> {
    let refused = |error: ImageError| match error {
        ImageError::Limits(_) => CatalogError::ImageTooLarge,
        _ => CatalogError::ImageUnreadable { kind: kind.name() },
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format_of(kind));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refused)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(CatalogError::ImageTooLarge);
    }
    // Cameras store a photo as the sensor saw it and say how to turn it.
    let orientation = decoder.orientation().map_err(refused)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(refused)?;
    picture.apply_orientation(orientation);
    Ok(picture)
}

/// The picture on white: JPEG has no transparency.
fn flattened(picture: &DynamicImage) -> RgbImage {
    let rgba = picture.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| {
            let blended = (u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a)) + 127) / 255;
            u8::try_from(blended).unwrap_or(u8::MAX)
        };
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

fn jpeg(picture: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(&flattened(picture))?;
    Ok(out)
}

/// The full size: within `FULL_SIDE` a side, never enlarged.
fn full_size(picture: &DynamicImage) -> DynamicImage {
    if picture.width() > FULL_SIDE || picture.height() > FULL_SIDE {
        picture.resize(FULL_SIDE, FULL_SIDE, FilterType::Triangle)
    } else {
        picture.clone()
    }
}

/// The thumbnail: the picture's middle square, `THUMB_SIDE` a side, never enlarged.
fn thumbnail(picture: &DynamicImage) -> DynamicImage {
    let side = picture.width().min(picture.height());
    if side > THUMB_SIDE {
        picture.resize_to_fill(THUMB_SIDE, THUMB_SIDE, FilterType::Triangle)
    } else {
        picture.crop_imm(
            (picture.width() - side) / 2,
            (picture.height() - side) / 2,
            side,
            side,
        )
    }
}

/// Checks an upload said to be `declared` and makes the picture of it.
///
/// # Errors
/// `NotAnImage` or `ImageTypeMismatch` when the content is not what it says it is,
/// `ImageUnreadable` when it cannot be decoded, `ImageTooLarge` past `MAX_SIDE` or
/// `MAX_PIXELS`.
pub fn picture(declared: ImageType, bytes: &[u8]) -> Result<Picture, AppError> {
    match sniff(bytes) {
        Ok(found) if found == declared => {}
        Ok(found) => {
            return Err(CatalogError::ImageTypeMismatch {
                declared: declared.media_type(),
                found: found.media_type(),
            }
            .into());
        }
        Err(Some(other)) => {
            return Err(CatalogError::ImageTypeMismatch {
                declared: declared.media_type(),
                found: other,
            }
            .into());
        }
        Err(None) => {
            return Err(CatalogError::NotAnImage {
                declared: declared.name(),
            }
            .into());
        }
    }
    let full = full_size(&decode(declared, bytes)?);
    let encoded = |picture: &DynamicImage| jpeg(picture).map_err(anyhow::Error::from);
    // The thumbnail is cut from the full size: the same square, from far fewer pixels.
    Ok(Picture {
        full: encoded(&full)?,
        thumb: encoded(&thumbnail(&full))?,
    })
}

impl Catalog {
    /// Makes `bytes` the picture of the merchant or product `id`; the picture's id.
    ///
    /// # Errors
    /// `Forbidden` unless a merchant account or an administrator, `NotFound` for no such
    /// merchant or product or not the caller's merchant's, the refusals of [`picture`].
    #[instrument(skip_all, fields(user.id = %caller.user_id, owner.id = %id))]
    pub async fn set_image(
        &self,
        caller: &Caller,
        owner: Owner,
        id: Uuid,
        declared: ImageType,
        bytes: bytes::Bytes,
    ) -> Result<Uuid, AppError> {
        super::require_staff_role(caller)?;
        // Who may, before the work of decoding.
        let merchant_id = match owner {
            Owner::Merchant => merchants::find(&self.db, id).await?.map(|m| m.id),
            Owner::Product => products::find(&self.db, id).await?.map(|p| p.merchant_id),
        }
        .ok_or(AppError::NotFound)?;
        self.check_staff(&self.db, caller, merchant_id).await?;
        self.keep(owner, id, declared, bytes).await
    }

    /// Decodes and resizes off the async threads (a large photo takes a while), then shows
    /// the picture in place of the owner's previous one, which goes.
    async fn keep(
        &self,
        owner: Owner,
        id: Uuid,
        declared: ImageType,
        bytes: bytes::Bytes,
    ) -> Result<Uuid, AppError> {
        let made = tokio::task::spawn_blocking(move || picture(declared, &bytes))
            .await
            .map_err(anyhow::Error::from)??;
        let image = ordo_kernel::new_id();
        let now = ordo_kernel::time::now();
        let mut tx = self.db.begin().await?;
        images::insert(&mut tx, image, id, &made.full, &made.thumb, now).await?;
        // Deleted meanwhile: the transaction ends without a trace.
        if !images::show(&mut tx, owner, id, image, now).await? {
            return Err(AppError::NotFound);
        }
        images::delete_others(&mut tx, id, image).await?;
        tx.commit().await?;
        Ok(image)
    }

    /// A picture in `size`: JPEG.
    ///
    /// # Errors
    /// `NotFound`, also for a picture since replaced.
    pub async fn image(&self, id: Uuid, size: Size) -> Result<Vec<u8>, AppError> {
        images::find(&self.db, id, size)
            .await?
            .ok_or(AppError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgba, RgbaImage};

    fn encoded(picture: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    /// Half transparent on the left, opaque red on the right.
    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = RgbaImage::from_fn(width, height, |x, _| {
            if x < width / 2 {
                Rgba([0, 0, 0, 0])
            } else {
                Rgba([200, 30, 30, 255])
            }
        });
        encoded(&DynamicImage::ImageRgba8(picture), ImageFormat::Png)
    }

    fn decoded(jpeg: &[u8]) -> DynamicImage {
        assert_eq!(image::guess_format(jpeg).unwrap(), ImageFormat::Jpeg);
        image::load_from_memory(jpeg).unwrap()
    }

    fn refusal(result: Result<Picture, AppError>) -> CatalogError {
        match result {
            Err(AppError::Service(refusal)) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_large_picture_fits_the_full_size_and_its_thumbnail_is_its_middle_square() {
        let made = picture(ImageType::Png, &png(1200, 900)).unwrap();
        let full = decoded(&made.full);
        assert_eq!((full.width(), full.height()), (800, 600));
        let thumb = decoded(&made.thumb);
        assert_eq!((thumb.width(), thumb.height()), (160, 160));
        // Transparency is white in a JPEG: the left edge is white, the right red.
        let [r, g, b] = full.to_rgb8().get_pixel(5, 300).0;
        assert!(r > 240 && g > 240 && b > 240, "{r} {g} {b}");
        let [r, g, _] = full.to_rgb8().get_pixel(795, 300).0;
        assert!(r > 170 && g < 70, "{r} {g}");
    }

    #[test]
    fn a_small_picture_is_never_enlarged() {
        let made = picture(ImageType::Png, &png(120, 90)).unwrap();
        let full = decoded(&made.full);
        assert_eq!((full.width(), full.height()), (120, 90));
        let thumb = decoded(&made.thumb);
        assert_eq!((thumb.width(), thumb.height()), (90, 90));
    }

    #[test]
    fn every_type_taken_is_read() {
        let opaque =
            DynamicImage::ImageRgb8(RgbImage::from_pixel(300, 200, image::Rgb([9, 99, 199])));
        for (kind, format) in [
            (ImageType::Jpeg, ImageFormat::Jpeg),
            (ImageType::Png, ImageFormat::Png),
            (ImageType::Webp, ImageFormat::WebP),
        ] {
            let made = picture(kind, &encoded(&opaque, format)).unwrap();
            let full = decoded(&made.full);
            assert_eq!((full.width(), full.height()), (300, 200), "{kind:?}");
        }
    }

    #[test]
    fn a_photo_is_turned_as_its_camera_says() {
        // A JPEG 40 wide and 20 high whose EXIF says to turn it a quarter: shown 20 by 40.
        let photo = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 20, image::Rgb([1, 2, 3])));
        let plain = encoded(&photo, ImageFormat::Jpeg);
        // An APP1 segment after the start of image: Exif, big-endian TIFF, one IFD entry:
        // Orientation (0x0112), SHORT, 1, value 6.
        let exif: &[u8] = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00";
        let length = u16::try_from(exif.len() + 2).unwrap().to_be_bytes();
        let mut jpeg = plain[..2].to_vec();
        jpeg.extend_from_slice(&[0xFF, 0xE1, length[0], length[1]]);
        jpeg.extend_from_slice(exif);
        jpeg.extend_from_slice(&plain[2..]);
        let full = decoded(&picture(ImageType::Jpeg, &jpeg).unwrap().full);
        assert_eq!((full.width(), full.height()), (20, 40));
    }

    #[test]
    fn what_is_not_the_picture_it_says_it_is_is_refused() {
        assert!(matches!(
            refusal(picture(ImageType::Png, b"just some words, not a picture")),
            CatalogError::NotAnImage { declared: "PNG" }
        ));
        assert!(matches!(
            refusal(picture(ImageType::Png, b"")),
            CatalogError::NotAnImage { .. }
        ));
        let jpeg = encoded(
            &DynamicImage::ImageRgb8(RgbImage::new(8, 8)),
            ImageFormat::Jpeg,
        );
        assert!(matches!(
            refusal(picture(ImageType::Png, &jpeg)),
            CatalogError::ImageTypeMismatch {
                declared: "image/png",
                found: "image/jpeg"
            }
        ));
        assert!(matches!(
            refusal(picture(ImageType::Webp, b"GIF89a\x01\x00\x01\x00")),
            CatalogError::ImageTypeMismatch {
                found: "image/gif",
                ..
            }
        ));
    }

    #[test]
    fn a_damaged_or_enormous_picture_is_refused() {
        let whole = png(64, 64);
        assert!(matches!(
            refusal(picture(ImageType::Png, &whole[..whole.len() / 2])),
            CatalogError::ImageUnreadable { kind: "PNG" }
        ));
        // One pixel high and wider than allowed: small to send, refused before decoding.
        let mut wide = Vec::new();
        image::codecs::png::PngEncoder::new(&mut wide)
            .write_image(
                &vec![0; (MAX_SIDE + 1) as usize],
                MAX_SIDE + 1,
                1,
                image::ExtendedColorType::L8,
            )
            .unwrap();
        assert!(matches!(
            refusal(picture(ImageType::Png, &wide)),
            CatalogError::ImageTooLarge
        ));
        // A JPEG whose header says 8000 by 8000: 64 megapixels, refused before decoding.
        let mut vast = encoded(
            &DynamicImage::ImageRgb8(RgbImage::new(16, 16)),
            ImageFormat::Jpeg,
        );
        let frame = vast.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        let side = 8000_u16.to_be_bytes();
        vast[frame + 5..frame + 9].copy_from_slice(&[side[0], side[1], side[0], side[1]]);
        assert!(matches!(
            refusal(picture(ImageType::Jpeg, &vast)),
            CatalogError::ImageTooLarge
        ));
    }
}
