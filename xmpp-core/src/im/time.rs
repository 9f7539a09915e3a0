//! XEP-0082 date-time strings (`CCYY-MM-DDThh:mm:ss[.sss]Z`) from a
//! wall-clock [`SystemTime`] the caller passes in, for XEP-0203 delay
//! stamps. The engine never reads a clock itself.

use std::time::{SystemTime, UNIX_EPOCH};

/// Formats `t` as an XEP-0082 `DateTime` in UTC, with milliseconds when
/// they are not zero. Times before 1970 are written as the epoch.
pub fn xep0082_datetime(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let millis = d.subsec_millis();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    if millis == 0 {
        format!("{y:04}-{m:02}-{day:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{day:02}T{hh:02}:{mm:02}:{ss:02}.{millis:03}Z")
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day),
/// by counting 400-year eras of 146 097 days.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of
    // each year.
    let z = days.saturating_add(719_468);
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    #[test]
    fn known_instants() {
        assert_eq!(xep0082_datetime(at(0, 0)), "1970-01-01T00:00:00Z");
        // 2000-02-29 (a leap day in a century divisible by 400).
        assert_eq!(
            xep0082_datetime(at(951_782_400 + 3_723, 0)),
            "2000-02-29T01:02:03Z"
        );
        assert_eq!(
            xep0082_datetime(at(1_700_000_000, 250)),
            "2023-11-14T22:13:20.250Z"
        );
        // 2100-03-01: 2100 is not a leap year.
        assert_eq!(
            xep0082_datetime(at(4_107_542_400, 0)),
            "2100-03-01T00:00:00Z"
        );
        assert_eq!(
            xep0082_datetime(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00Z"
        );
    }
}
