//! Small encoders the RUCKUS simulator needs without extra dependencies: EC service
//! dates, ISO timestamps, base64url (JWT-looking tokens) and form-body decoding.

use super::super::common::iso_seconds;

/// An EC service date as the EC view shows it (`2019-09-14 01:12:51Z`), from the
/// request forms `2019-09-14 01:12:51.805Z`, `2019-09-14T01:12:51Z`, `…+00:00` or a bare
/// `2019-09-14`; `None` when it is not a date.
pub(crate) fn normalize_date(s: &str) -> Option<String> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let (mut hh, mut mm, mut ss) = (0, 0, 0);
    let rest = &s[10..];
    if !rest.is_empty() {
        let rb = rest.as_bytes();
        if !(rb[0] == b' ' || rb[0] == b'T') || rest.len() < 9 {
            return None;
        }
        if rb[3] != b':' || rb[6] != b':' {
            return None;
        }
        let t = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = rest.get(r)?;
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        (hh, mm, ss) = (t(1..3)?, t(4..6)?, t(7..9)?);
        if hh > 23 || mm > 59 || ss > 59 {
            return None;
        }
        let mut tail = &rest[9..];
        if let Some(frac) = tail.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            tail = &frac[digits..];
        }
        if !matches!(tail, "" | "Z" | "z" | "+00:00" | "+0000" | "UTC" | " UTC") {
            return None;
        }
    }
    Some(format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}Z"))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

/// `2024-01-02T03:04:05.123Z`.
pub(crate) fn iso_millis(ms: u64) -> String {
    format!("{}.{:03}Z", iso_seconds(ms), ms % 1000)
}

/// Unpadded base64url.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        let emit = chunk.len() + 1;
        for i in 0..emit {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// `application/x-www-form-urlencoded` pairs; `None` when the encoding is broken.
pub(crate) fn parse_form(body: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut out = Vec::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.push((percent_decode(k)?, percent_decode(v)?));
    }
    Some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_normalize() {
        assert_eq!(
            normalize_date("2019-09-14 01:12:51.805Z").as_deref(),
            Some("2019-09-14 01:12:51Z")
        );
        assert_eq!(
            normalize_date("2019-09-14T01:12:51+00:00").as_deref(),
            Some("2019-09-14 01:12:51Z")
        );
        assert_eq!(
            normalize_date("2024-02-29").as_deref(),
            Some("2024-02-29 00:00:00Z")
        );
        for bad in [
            "",
            "2019-13-01",
            "2023-02-29",
            "soon",
            "2019-09-14 1:2:3Z",
            "2019-09-14 01:12:51+02:00",
        ] {
            assert_eq!(normalize_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn base64url_and_forms() {
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        let f = parse_form(b"grant_type=client_credentials&client_id=a%20b&x=1+2").unwrap();
        assert_eq!(f[1], ("client_id".into(), "a b".into()));
        assert_eq!(f[2], ("x".into(), "1 2".into()));
        assert!(parse_form(b"a=%zz").is_none());
        assert_eq!(iso_millis(1_000_123), "1970-01-01T00:16:40.123Z");
    }
}
