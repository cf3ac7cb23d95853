//! How quantities read to people in messages and reports: byte sizes, short durations and
//! clock times. One formatter each, shared by the library's errors and the CLI's reports.

use std::time::Duration;

/// `10485760` -> `10 MiB`, `65536` -> `64 KiB` (a limit reads as it was set), `1536` ->
/// `1.5 KiB`, `512` -> `512 B`.
pub fn byte_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut unit = 0;
    let mut scale = 1024u64;
    while unit + 1 < UNITS.len() && bytes >= scale * 1024 {
        scale *= 1024;
        unit += 1;
    }
    if bytes.is_multiple_of(scale) {
        format!("{} {}", bytes / scale, UNITS[unit])
    } else {
        format!("{:.1} {}", bytes as f64 / scale as f64, UNITS[unit])
    }
}

/// `30 s`, `1.5 s`, `0.25 s`: a timeout or a wait, with no trailing zeros.
pub fn seconds(duration: Duration) -> String {
    let text = format!("{:.3}", duration.as_secs_f64());
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} s")
}

/// `83.4` -> `1:23.4`, `3725.0` -> `1:02:05.0`: a length of audio, to the tenth of a second.
pub fn clock(seconds: f64) -> String {
    let tenths = (seconds.max(0.0) * 10.0).round() as u64;
    let (h, m, s, t) = (
        tenths / 36000,
        tenths / 600 % 60,
        tenths / 10 % 60,
        tenths % 10,
    );
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{t}")
    } else {
        format!("{m}:{s:02}.{t}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_as_people_write_them() {
        assert_eq!(byte_size(10 * 1024 * 1024), "10 MiB");
        assert_eq!(byte_size(64 * 1024), "64 KiB");
        assert_eq!(byte_size(1536), "1.5 KiB");
        assert_eq!(byte_size(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
        assert_eq!(byte_size(1000), "1000 B");
        assert_eq!(byte_size(0), "0 B");
        assert_eq!(seconds(Duration::from_secs(30)), "30 s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(seconds(Duration::from_millis(250)), "0.25 s");
        assert_eq!(clock(83.4), "1:23.4");
        assert_eq!(clock(3725.0), "1:02:05.0");
        assert_eq!(clock(-0.01), "0:00.0");
    }
}
