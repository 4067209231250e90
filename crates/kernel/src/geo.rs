//! Coordinates: validation and great-circle distance.

const EARTH_RADIUS_KM: f64 = 6371.0088;

/// # Errors
/// When the value is not a latitude.
pub fn latitude(value: f64) -> Result<f64, &'static str> {
    if value.is_finite() && (-90.0..=90.0).contains(&value) {
        Ok(value)
    } else {
        Err("must be between -90 and 90")
    }
}

/// # Errors
/// When the value is not a longitude.
pub fn longitude(value: f64) -> Result<f64, &'static str> {
    if value.is_finite() && (-180.0..=180.0).contains(&value) {
        Ok(value)
    } else {
        Err("must be between -180 and 180")
    }
}

/// A point written `LAT,LON` in decimal degrees (e.g. `52.52,13.405`), when it is one: each
/// a sign, whole degrees (two digits at most for the latitude, three for the longitude) and
/// a fraction. Exponents, `inf` and `NaN`, which Rust's parser takes, are not coordinates.
#[must_use]
pub fn point(text: &str) -> Option<(f64, f64)> {
    let (lat, lon) = text.split_once(',')?;
    let lat = latitude(degrees(lat.trim(), 2)?).ok()?;
    let lon = longitude(degrees(lon.trim(), 3)?).ok()?;
    Some((lat, lon))
}

/// `text` as a number when it is written `[-+]?D{1,whole}(.D+)?`.
fn degrees(text: &str, whole: usize) -> Option<f64> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (integral, fraction) = match unsigned.split_once('.') {
        Some((integral, fraction)) => (integral, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    (digits(integral) && integral.len() <= whole && fraction.is_none_or(digits))
        .then(|| text.parse().ok())
        .flatten()
}

/// Distance in kilometres between two points (haversine).
#[must_use]
pub fn distance_km(from: (f64, f64), to: (f64, f64)) -> f64 {
    let (lat1, lon1) = (from.0.to_radians(), from.1.to_radians());
    let (lat2, lon2) = (to.0.to_radians(), to.1.to_radians());
    let a = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
}

/// A latitude/longitude box containing every point within `radius_km` of `center`, for an
/// indexable first filter before the exact distance.
#[must_use]
pub fn bounding_box(center: (f64, f64), radius_km: f64) -> ((f64, f64), (f64, f64)) {
    let dlat = (radius_km / EARTH_RADIUS_KM).to_degrees();
    let cos = center.0.to_radians().cos().max(0.01);
    let dlon = (dlat / cos).min(180.0);
    (
        ((center.0 - dlat).max(-90.0), (center.1 - dlon).max(-180.0)),
        ((center.0 + dlat).min(90.0), (center.1 + dlon).min(180.0)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_great_circle_kilometres() {
        let berlin = (52.5200, 13.4050);
        let hamburg = (53.5511, 9.9937);
        let d = distance_km(berlin, hamburg);
        assert!((d - 255.0).abs() < 2.0, "{d}");
        assert!(distance_km(berlin, berlin) < 1e-9);
    }

    #[test]
    fn the_box_holds_the_circle() {
        let center = (52.52, 13.405);
        let ((south, west), (north, east)) = bounding_box(center, 5.0);
        for point in [
            (south, center.1),
            (north, center.1),
            (center.0, west),
            (center.0, east),
        ] {
            let d = distance_km(center, point);
            assert!((4.9..5.2).contains(&d), "{d}");
        }
    }

    #[test]
    fn points_are_written_in_decimal_degrees() {
        assert_eq!(point("52.52,13.405"), Some((52.52, 13.405)));
        assert_eq!(point(" -33.86 , +151.2 "), Some((-33.86, 151.2)));
        assert_eq!(point("0,0"), Some((0.0, 0.0)));
        for text in [
            "5e1,1e1",
            "52.5,1e1",
            "52.5e0,13",
            "inf,0",
            "NaN,NaN",
            "91,0",
            "052.5,13",
            "52.,13",
            ".5,13",
            "52.5,13.4,1",
            "52.5",
            "0x10,13",
            "--5,13",
            "٥٢,13",
        ] {
            assert_eq!(point(text), None, "{text}");
        }
    }

    #[test]
    fn coordinates_are_checked() {
        assert!(latitude(91.0).is_err());
        assert!(longitude(-181.0).is_err());
        assert!(latitude(f64::NAN).is_err());
        assert_eq!(longitude(13.4), Ok(13.4));
    }
}
