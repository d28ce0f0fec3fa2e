//! What an uploaded file is, read from its bytes (never from its name or the
//! browser's word), and its images without the metadata a phone writes into
//! them (place, time, camera, owner, thumbnails): plain Rust, no decoding.
//!
//! Allowed: JPEG, PNG and WebP photos, PDF scans. A JPEG's orientation is
//! kept (a one-entry EXIF block) so that a photo taken sideways still shows
//! upright; everything after an image's end is dropped (motion-photo videos,
//! vendor trailers).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl Kind {
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Webp => "image/webp",
            Kind::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
            Kind::Webp => "webp",
            Kind::Pdf => "pdf",
        }
    }

    pub fn image(self) -> bool {
        self != Kind::Pdf
    }

    pub fn of_mime(mime: &str) -> Option<Kind> {
        [Kind::Jpeg, Kind::Png, Kind::Webp, Kind::Pdf]
            .into_iter()
            .find(|k| k.mime() == mime)
    }
}

/// The allowed kind the bytes are, if any.
pub fn sniff(b: &[u8]) -> Option<Kind> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some(Kind::Webp)
    } else if b.starts_with(b"%PDF-") {
        Some(Kind::Pdf)
    } else {
        None
    }
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damaged(pub &'static str);

/// The file as it will be stored: images without their metadata, a PDF as sent.
pub fn clean(kind: Kind, b: &[u8]) -> Result<Vec<u8>, Damaged> {
    match kind {
        Kind::Jpeg => jpeg(b),
        Kind::Png => png(b),
        Kind::Webp => webp(b),
        Kind::Pdf => {
            // A scan cut short in the upload is worth refusing now.
            let tail = &b[b.len().saturating_sub(1024)..];
            if tail.windows(5).any(|w| w == b"%%EOF") {
                Ok(b.to_vec())
            } else {
                Err(Damaged("the PDF ends before its end marker"))
            }
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]) as usize)
}

/// JPEG: keeps the image's own segments (JFIF, ICC profile, Adobe colour
/// transform, tables, frames, scans); drops EXIF, XMP, IPTC, comments and
/// whatever follows the end of the image.
fn jpeg(b: &[u8]) -> Result<Vec<u8>, Damaged> {
    const CUT: Damaged = Damaged("the JPEG is cut short or damaged");
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut orientation = None;
    let mut exif_at = None;
    let mut i = 2;
    loop {
        // A marker: 0xFF, perhaps padded with more 0xFF, then its code.
        if b.get(i) != Some(&0xFF) {
            return Err(CUT);
        }
        while b.get(i) == Some(&0xFF) {
            i += 1;
        }
        let m = *b.get(i).ok_or(CUT)?;
        i += 1;
        match m {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                break;
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, m]);
                continue;
            }
            _ => {}
        }
        let len = be16(b, i).ok_or(CUT)?;
        if len < 2 || i + len > b.len() {
            return Err(CUT);
        }
        let data = &b[i + 2..i + len];
        let keep = match m {
            0xE0 => {
                // JFIF (and its extension): the EXIF stand-in goes after it.
                exif_at = Some(out.len() + 2 + len);
                true
            }
            0xE1 => {
                if let Some(tiff) = data.strip_prefix(b"Exif\0\0") {
                    orientation = orientation.or(exif_orientation(tiff));
                }
                false
            }
            0xE2 => data.starts_with(b"ICC_PROFILE\0"),
            0xEE => data.starts_with(b"Adobe"),
            0xE3..=0xED | 0xEF | 0xFE => false,
            _ => true,
        };
        if keep {
            out.extend_from_slice(&[0xFF, m]);
            out.extend_from_slice(&b[i..i + len]);
        }
        i += len;
        if m == 0xDA {
            // The entropy-coded scan: up to the next marker that is not a
            // stuffed 0xFF00 or a restart.
            let start = i;
            loop {
                let at = b[i..].iter().position(|&x| x == 0xFF).ok_or(CUT)? + i;
                match b.get(at + 1) {
                    Some(0x00) | Some(0xD0..=0xD7) => i = at + 2,
                    Some(0xFF) => i = at + 1,
                    Some(_) => {
                        i = at;
                        break;
                    }
                    None => return Err(CUT),
                }
            }
            out.extend_from_slice(&b[start..i]);
        }
    }
    if let Some(o) = orientation.filter(|&o| o != 1 && o <= 8) {
        let at = exif_at.unwrap_or(2);
        out.splice(at..at, orientation_segment(o));
    }
    Ok(out)
}

/// The orientation (1–8) an EXIF block's first directory gives.
fn exif_orientation(t: &[u8]) -> Option<u16> {
    let le = match t.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let x = [*t.get(at)?, *t.get(at + 1)?];
        Some(if le {
            u16::from_le_bytes(x)
        } else {
            u16::from_be_bytes(x)
        })
    };
    let u32_at = |at: usize| -> Option<usize> {
        let x = [
            *t.get(at)?,
            *t.get(at + 1)?,
            *t.get(at + 2)?,
            *t.get(at + 3)?,
        ];
        Some(if le {
            u32::from_le_bytes(x)
        } else {
            u32::from_be_bytes(x)
        } as usize)
    };
    if u16_at(2)? != 42 {
        return None;
    }
    let ifd = u32_at(4)?;
    let n = u16_at(ifd)? as usize;
    (0..n.min(512)).find_map(|k| {
        let e = ifd + 2 + 12 * k;
        (u16_at(e)? == 0x0112 && u16_at(e + 2)? == 3).then(|| u16_at(e + 8))?
    })
}

/// An APP1 EXIF segment holding only the orientation.
fn orientation_segment(o: u16) -> Vec<u8> {
    let mut s = vec![0xFF, 0xE1, 0x00, 34];
    s.extend_from_slice(b"Exif\0\0MM\0\x2A\0\0\0\x08");
    s.extend_from_slice(&[0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    s.extend_from_slice(&o.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    s
}

/// PNG: the chunks that draw the picture and its colours; text, EXIF and
/// time chunks dropped, nothing after IEND.
fn png(b: &[u8]) -> Result<Vec<u8>, Damaged> {
    const CUT: Damaged = Damaged("the PNG is cut short or damaged");
    const KEEP: [&[u8; 4]; 14] = [
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
        b"pHYs", b"acTL", b"fcTL", b"fdAT",
    ];
    let mut out = b.get(..8).ok_or(CUT)?.to_vec();
    let mut i = 8;
    let mut first = true;
    loop {
        let len =
            u32::from_be_bytes(b.get(i..i + 4).ok_or(CUT)?.try_into().map_err(|_| CUT)?) as usize;
        let kind = b.get(i + 4..i + 8).ok_or(CUT)?;
        let end = i.checked_add(12 + len).ok_or(CUT)?;
        if end > b.len() || (first && kind != b"IHDR") {
            return Err(CUT);
        }
        first = false;
        // Unknown critical chunks (upper-case first letter) are part of the picture.
        if KEEP.iter().any(|k| &k[..] == kind) || kind[0].is_ascii_uppercase() {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

/// WebP: its EXIF and XMP chunks dropped and their flags cleared.
fn webp(b: &[u8]) -> Result<Vec<u8>, Damaged> {
    const CUT: Damaged = Damaged("the WebP image is cut short or damaged");
    let size = u32::from_le_bytes(b.get(4..8).ok_or(CUT)?.try_into().map_err(|_| CUT)?) as usize;
    let end = size.checked_add(8).ok_or(CUT)?;
    if end > b.len() {
        return Err(CUT);
    }
    let mut body = b"WEBP".to_vec();
    let mut i = 12;
    while i < end {
        let kind = b.get(i..i + 4).ok_or(CUT)?;
        let len = u32::from_le_bytes(
            b.get(i + 4..i + 8)
                .ok_or(CUT)?
                .try_into()
                .map_err(|_| CUT)?,
        ) as usize;
        let next = (i + 8).checked_add(len + (len & 1)).ok_or(CUT)?;
        if i + 8 + len > end {
            return Err(CUT);
        }
        if kind != b"EXIF" && kind != b"XMP " {
            let at = body.len();
            body.extend_from_slice(&b[i..next.min(end)]);
            if kind == b"VP8X" && len >= 1 {
                body[at + 8] &= !(0x08 | 0x04);
            }
        }
        i = next;
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn seg(m: u8, data: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, m];
        s.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(data);
        s
    }

    /// A JPEG's structure with an EXIF block (orientation 6, and a GPS
    /// pointer), XMP, a comment and a trailer after the end.
    fn photo() -> Vec<u8> {
        let mut exif = b"Exif\0\0II\x2A\0\x08\0\0\0".to_vec();
        exif.extend_from_slice(&[2, 0]);
        exif.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
        exif.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 0x40, 0, 0, 0]);
        exif.extend_from_slice(b"\0\0\0\0GPS 55.75N 37.61E");
        let mut b = vec![0xFF, 0xD8];
        b.extend(seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        b.extend(seg(0xE1, &exif));
        b.extend(seg(
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Ivanov</x:xmpmeta>",
        ));
        b.extend(seg(0xFE, b"taken by Ivanov"));
        b.extend(seg(0xDB, &[0; 65]));
        b.extend(seg(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        b.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
        b.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        b.extend_from_slice(&[0xFF, 0xD9]);
        b.extend_from_slice(b"MotionPhoto_Data video");
        b
    }

    fn has(h: &[u8], n: &[u8]) -> bool {
        h.windows(n.len()).any(|w| w == n)
    }

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(&photo()), Some(Kind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Kind::Png));
        assert_eq!(sniff(b"RIFF\x04\0\0\0WEBP"), Some(Kind::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(Kind::Pdf));
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"MZ\x90\0"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn jpeg_loses_metadata_keeps_picture_and_orientation() {
        let out = clean(Kind::Jpeg, &photo()).unwrap();
        for gone in [&b"GPS"[..], b"Ivanov", b"xmpmeta", b"MotionPhoto"] {
            assert!(!has(&out, gone), "{}", String::from_utf8_lossy(gone));
        }
        assert!(has(&out, b"JFIF"));
        assert!(has(
            &out,
            &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9]
        ));
        assert!(out.ends_with(&[0xFF, 0xD9]));
        // The orientation survives, right after JFIF, and reads back.
        let at = out.windows(6).position(|w| w == b"Exif\0\0").unwrap();
        assert_eq!(exif_orientation(&out[at + 6..]), Some(6));
        assert_eq!(&out[at - 4..at - 2], &[0xFF, 0xE1]);
        // Cleaning twice changes nothing more.
        assert_eq!(clean(Kind::Jpeg, &out).unwrap(), out);
    }

    #[test]
    fn damaged_jpeg_refused() {
        let p = photo();
        let cut = p.iter().position(|&x| x == 0xDA).unwrap() + 5;
        assert!(clean(Kind::Jpeg, &p[..cut]).is_err());
        assert!(clean(Kind::Jpeg, &[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF]).is_err());
        assert!(clean(Kind::Jpeg, &[0xFF, 0xD8, 0xFF]).is_err());
    }

    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0; 4]);
        c
    }

    #[test]
    fn png_loses_text_and_exif() {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
        b.extend(chunk(b"tEXt", b"Author\0Ivanov"));
        b.extend(chunk(b"eXIf", b"MM\0\x2AGPS"));
        b.extend(chunk(b"IDAT", b"pixels"));
        b.extend(chunk(b"IEND", b""));
        b.extend_from_slice(b"trailer");
        let out = clean(Kind::Png, &b).unwrap();
        assert!(!has(&out, b"Ivanov") && !has(&out, b"GPS") && !has(&out, b"trailer"));
        assert!(has(&out, b"IDATpixels") && has(&out, b"IEND"));
        assert!(clean(Kind::Png, &b[..b.len() - 20]).is_err());
    }

    #[test]
    fn webp_loses_exif_and_flags() {
        let mut body = b"WEBP".to_vec();
        let mut vp8x = b"VP8X".to_vec();
        vp8x.extend_from_slice(&10u32.to_le_bytes());
        vp8x.extend_from_slice(&[0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        body.extend(vp8x);
        let mut exif = b"EXIF".to_vec();
        exif.extend_from_slice(&5u32.to_le_bytes());
        exif.extend_from_slice(b"GPS!!\0");
        body.extend(exif);
        let mut vp8 = b"VP8L".to_vec();
        vp8.extend_from_slice(&2u32.to_le_bytes());
        vp8.extend_from_slice(b"px");
        body.extend(vp8);
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&(body.len() as u32).to_le_bytes());
        b.extend(body);
        let out = clean(Kind::Webp, &b).unwrap();
        assert!(!has(&out, b"GPS") && !has(&out, b"EXIF") && has(&out, b"VP8L\x02\0\0\0px"));
        assert_eq!(out[20], 0);
        let size = u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize;
        assert_eq!(size + 8, out.len());
    }

    #[test]
    fn pdf_must_end() {
        assert!(clean(Kind::Pdf, b"%PDF-1.4\n1 0 obj\n%%EOF\n").is_ok());
        assert!(clean(Kind::Pdf, b"%PDF-1.4\n1 0 obj\n").is_err());
    }
}
