//! Calendar arithmetic for the signer: no clock, no time crate. The caller passes the time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC time broken into fields, second precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

/// Days since 1970-01-01 to (year, month, day). Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Civil {
    pub(crate) fn from_system_time(t: SystemTime) -> Civil {
        let secs = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
        };
        Civil::from_unix(secs)
    }

    pub(crate) fn from_unix(secs: i64) -> Civil {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    /// `YYYYMMDDTHHMMSSZ` on the stack.
    pub(crate) fn amz_date_bytes(&self) -> [u8; 16] {
        let mut b = *b"00000000T000000Z";
        let mut put = |at: usize, mut n: u32, width: usize| {
            for i in (0..width).rev() {
                b[at + i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, self.year.clamp(0, 9999) as u32, 4);
        put(4, self.month, 2);
        put(6, self.day, 2);
        put(9, self.hour, 2);
        put(11, self.minute, 2);
        put(13, self.second, 2);
        b
    }

    /// `YYYYMMDDTHHMMSSZ`
    pub(crate) fn amz_date(&self) -> String {
        let mut s = String::with_capacity(16);
        push_num(&mut s, self.year.clamp(0, 9999) as u32, 4);
        push_num(&mut s, self.month, 2);
        push_num(&mut s, self.day, 2);
        s.push('T');
        push_num(&mut s, self.hour, 2);
        push_num(&mut s, self.minute, 2);
        push_num(&mut s, self.second, 2);
        s.push('Z');
        s
    }

    /// `YYYY-MM-DDTHH:MM:SS.000Z` (ISO 8601, as POST policies want it).
    pub(crate) fn iso8601(&self) -> String {
        let mut s = self.rfc3339_seconds();
        s.insert_str(s.len() - 1, ".000");
        s
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub(crate) fn rfc3339_seconds(&self) -> String {
        let mut s = String::with_capacity(24);
        push_num(&mut s, self.year.clamp(0, 9999) as u32, 4);
        s.push('-');
        push_num(&mut s, self.month, 2);
        s.push('-');
        push_num(&mut s, self.day, 2);
        s.push('T');
        push_num(&mut s, self.hour, 2);
        s.push(':');
        push_num(&mut s, self.minute, 2);
        s.push(':');
        push_num(&mut s, self.second, 2);
        s.push('Z');
        s
    }

    /// RFC 7231 HTTP date: `Sun, 30 Aug 2015 12:36:00 GMT`.
    pub(crate) fn http_date(&self) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let mut s = String::with_capacity(29);
        s.push_str(DAYS[self.weekday as usize % 7]);
        s.push_str(", ");
        push_num(&mut s, self.day, 2);
        s.push(' ');
        s.push_str(MONTHS[(self.month as usize + 11) % 12]);
        s.push(' ');
        push_num(&mut s, self.year.clamp(0, 9999) as u32, 4);
        s.push(' ');
        push_num(&mut s, self.hour, 2);
        s.push(':');
        push_num(&mut s, self.minute, 2);
        s.push(':');
        push_num(&mut s, self.second, 2);
        s.push_str(" GMT");
        s
    }
}

fn push_num(s: &mut String, mut n: u32, width: usize) {
    let mut buf = [b'0'; 4];
    for i in (0..width).rev() {
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    for &b in &buf[..width] {
        s.push(b as char);
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    s.iter().try_fold(0u32, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + (b - b'0') as u32))
}

fn to_system_time(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<SystemTime> {
    let max_day = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > max_day || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + s) as i64;
    // A leap second on the last day of 9999 would be a time in year 10000, which no four-digit
    // date can write back.
    let secs = u64::try_from(secs).ok().filter(|&s| s <= LAST_SECOND_OF_9999)?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// 9999-12-31T23:59:59Z, as seconds since 1970.
const LAST_SECOND_OF_9999: u64 = 253_402_300_799;

/// Parses `YYYYMMDDTHHMMSSZ` (the `X-Amz-Date` format).
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    to_system_time(
        digits(&b[0..4])? as i64,
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[9..11])?,
        digits(&b[11..13])?,
        digits(&b[13..15])?,
    )
}

/// Parses an RFC 3339 UTC time with seconds: `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (`+00:00`
/// accepted). A fraction is kept to the nanosecond (S3's `LastModified` has milliseconds:
/// `2024-05-01T13:22:49.565Z`); digits past the ninth are dropped.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for i in 0..9 {
            let digit = rest.get(1 + i).filter(|_| i < n).map_or(0, |c| u32::from(c - b'0'));
            nanos = nanos * 10 + digit;
        }
        rest = &rest[1 + n..];
    }
    if !matches!(rest, b"Z" | b"z" | b"+00:00" | b"-00:00") {
        return None;
    }
    to_system_time(
        digits(&b[0..4])? as i64,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )
    .map(|t| t + Duration::from_nanos(u64::from(nanos)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_of_a_second_are_kept() {
        let whole = parse_rfc3339("2024-05-01T13:22:49Z").unwrap();
        let ms = parse_rfc3339("2024-05-01T13:22:49.565Z").unwrap();
        assert_eq!(ms.duration_since(whole).unwrap(), Duration::from_millis(565));
        let ns = parse_rfc3339("2024-05-01T13:22:49.123456789123+00:00").unwrap();
        assert_eq!(ns.duration_since(whole).unwrap(), Duration::from_nanos(123_456_789));
        assert_eq!(parse_rfc3339("2024-05-01T13:22:49.5Z").unwrap().duration_since(whole).unwrap().as_millis(), 500);
        assert_eq!(parse_rfc3339("2024-05-01T13:22:49.Z"), None);
        // The last second of 9999 with a fraction is still a time four digits can write.
        assert!(parse_rfc3339("9999-12-31T23:59:59.999Z").is_some());
    }

    #[test]
    fn the_last_time_read_is_the_last_one_written() {
        let last = parse_rfc3339("9999-12-31T23:59:59Z").unwrap();
        assert_eq!(Civil::from_system_time(last).rfc3339_seconds(), "9999-12-31T23:59:59Z");
        // A leap second there would be year 10000: refused, as in the X-Amz-Date form.
        assert_eq!(parse_rfc3339("9999-12-31T23:59:60Z"), None);
        assert_eq!(parse_amz_date("99991231T235960Z"), None);
        assert!(parse_rfc3339("2016-12-31T23:59:60Z").is_some());
    }

    #[test]
    fn formats_the_suite_time() {
        let t = parse_rfc3339("2015-08-30T12:36:00Z").unwrap();
        let c = Civil::from_system_time(t);
        assert_eq!(c.amz_date(), "20150830T123600Z");
        assert_eq!(c.http_date(), "Sun, 30 Aug 2015 12:36:00 GMT");
        assert_eq!(c.iso8601(), "2015-08-30T12:36:00.000Z");
        assert_eq!(c.rfc3339_seconds(), "2015-08-30T12:36:00Z");
        assert_eq!(parse_rfc3339(&c.rfc3339_seconds()), Some(t));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(t));
    }

    #[test]
    fn round_trips_over_centuries() {
        for secs in [0i64, 951_782_400, 1_369_353_600, 4_102_444_800, 253_402_300_799] {
            let c = Civil::from_unix(secs);
            let back = parse_amz_date(&c.amz_date()).unwrap();
            assert_eq!(back.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64, secs);
        }
    }

    #[test]
    fn rejects_bad_dates() {
        for s in ["2015083OT123600Z", "20150230T123600Z", "20151301T000000Z", "20150830T243600Z", ""] {
            assert_eq!(parse_amz_date(s), None, "{s}");
        }
        assert_eq!(parse_rfc3339("2015-08-30T12:36:00+02:00"), None);
        assert!(parse_rfc3339("2015-08-30T12:36:00.123Z").is_some());
    }
}
