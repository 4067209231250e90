//! What a picture of a merchant or a product may be, and the sizes it is served in.

/// The most an upload may weigh: 5 MiB.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// The most pixels a side an upload may have (a 48-megapixel photo has 8000).
pub const MAX_SIDE: u32 = 10_000;
/// The most pixels an upload may have in all: 5 MB of a picture that compresses well could
/// otherwise unpack to hundreds of megabytes.
pub const MAX_PIXELS: u64 = 50_000_000;
/// The full size fits in a square of this side; smaller pictures are not enlarged.
pub const FULL_SIDE: u32 = 800;
/// The thumbnail is a square of this side, cut from the picture's middle.
pub const THUMB_SIDE: u32 = 160;

/// What a picture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Merchant,
    Product,
}

/// The sizes a picture is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Full,
    Thumb,
}

/// The kinds of picture taken, by their media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
}

impl ImageType {
    pub const ALL: [ImageType; 3] = [ImageType::Jpeg, ImageType::Png, ImageType::Webp];

    /// The type a `Content-Type` names (its essence, in any case), if it is one taken.
    #[must_use]
    pub fn from_media_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        Self::ALL
            .into_iter()
            .find(|kind| kind.media_type().eq_ignore_ascii_case(essence))
    }

    #[must_use]
    pub fn media_type(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Webp => "image/webp",
        }
    }

    /// Its name for people.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ImageType::Jpeg => "JPEG",
            ImageType::Png => "PNG",
            ImageType::Webp => "WebP",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_read_by_their_essence() {
        assert_eq!(
            ImageType::from_media_type("image/png"),
            Some(ImageType::Png)
        );
        assert_eq!(
            ImageType::from_media_type("IMAGE/JPEG; charset=binary"),
            Some(ImageType::Jpeg)
        );
        assert_eq!(
            ImageType::from_media_type(" image/webp "),
            Some(ImageType::Webp)
        );
        for refused in ["image/gif", "text/plain", "image/", "", "image/pngx"] {
            assert_eq!(ImageType::from_media_type(refused), None, "{refused}");
        }
    }
}
