//! Output helpers: logging setup, errors and exit codes, sizes, password input.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use coffer_client::ClientError;
use coffer_core::ErrorCode;

use crate::{EXIT_CONFLICT, EXIT_ERROR};

pub fn init_logging(server: bool) {
    let default = if server { "info,tower_http=warn,sqlx=warn" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("COFFER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour codes only for a terminal: a log written to a file or a pipe stays plain.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if std::env::var("COFFER_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The exit code an error deserves: 3 for conflicts (the remote changed or the target
/// exists), 4 for what the caller may not do (or a link's missing password), 5 for a
/// public link that no longer works, 1 otherwise.
pub fn exit_code_of(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<ClientError>().and_then(ClientError::code) {
        Some(ErrorCode::Conflict | ErrorCode::AlreadyExists) => EXIT_CONFLICT,
        Some(
            ErrorCode::Forbidden | ErrorCode::ReadOnly | ErrorCode::PasswordRequired | ErrorCode::DownloadDisabled,
        ) => crate::EXIT_DENIED,
        Some(ErrorCode::LinkExpired | ErrorCode::LinkRevoked | ErrorCode::LinkExhausted) => crate::EXIT_GONE,
        _ => EXIT_ERROR,
    }
}

pub fn report_error(e: &anyhow::Error, json: bool) -> ExitCode {
    let code = exit_code_of(e);
    if json {
        let api_code = e.downcast_ref::<ClientError>().and_then(ClientError::code).map(|c| c.as_str());
        let body = serde_json::json!({"error": {"code": api_code.unwrap_or("error"), "message": format!("{e:#}")}});
        println!("{body}");
    } else {
        eprintln!("coffer: {e:#}");
    }
    ExitCode::from(code)
}

pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// "1.5 MiB"
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", UNITS[unit]) }
}

/// Parses "10G", "500M", "1024", "1.5T" (binary units) or "none".
pub fn parse_size(s: &str) -> Result<Option<u64>> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("none") || s.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    let (num, mult) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let mult: u64 = match s[i..].to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
                "" => 1,
                "K" => 1 << 10,
                "M" => 1 << 20,
                "G" => 1 << 30,
                "T" => 1 << 40,
                "P" => 1 << 50,
                other => bail!("unknown size unit '{other}' (use K, M, G, T)"),
            };
            (&s[..i], mult)
        }
        None => (s, 1),
    };
    let n: f64 = num.trim().parse().with_context(|| format!("'{s}' is not a size"))?;
    if !(n.is_finite() && n >= 0.0) {
        bail!("'{s}' is not a size");
    }
    Ok(Some((n * mult as f64) as u64))
}

/// A password from the terminal (not echoed), or the first line of stdin when stdin
/// is not a terminal (scripts).
pub fn read_password(prompt: &str) -> Result<String> {
    if std::io::stdin().is_terminal() {
        Ok(rpassword::prompt_password(prompt)?)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let pw = line.trim_end_matches(['\n', '\r']).to_owned();
        if pw.is_empty() {
            bail!("no password on stdin");
        }
        Ok(pw)
    }
}

pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = coffer_core::time::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// When a link given `--expires WHEN` stops working, in milliseconds: WHEN is a
/// duration from `now_ms` (`90s`, `30m`, `12h`, `7d`, `2w`) or a UTC date
/// (`2027-01-31`, `2027-01-31T18:00`, `2027-01-31T18:00:30Z`).
pub fn parse_expiry(when: &str, now_ms: i64) -> Result<i64> {
    let when = when.trim();
    let bad = || anyhow::anyhow!("'{when}' is not a duration (30m, 12h, 7d, 2w) or a date (2027-01-31[T18:00])");
    let unit = |c: char| match c {
        's' => Some(1_000i64),
        'm' => Some(60_000),
        'h' => Some(3_600_000),
        'd' => Some(86_400_000),
        'w' => Some(7 * 86_400_000),
        _ => None,
    };
    if let Some(last) = when.chars().last()
        && let Some(ms) = unit(last)
        && let Ok(n) = when[..when.len() - 1].parse::<i64>()
    {
        if n <= 0 {
            return Err(bad());
        }
        return n.checked_mul(ms).and_then(|d| d.checked_add(now_ms)).ok_or_else(bad);
    }
    let (date, time) = when.trim_end_matches('Z').split_once(['T', ' ']).unwrap_or((when, ""));
    let mut ymd = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (Some(Some(y)), Some(Some(mo)), Some(Some(d))) = (ymd.next(), ymd.next(), ymd.next()) else {
        return Err(bad());
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return Err(bad());
    }
    let mut hms = [0i64; 3];
    if !time.is_empty() {
        let parts: Vec<&str> = time.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(bad());
        }
        for (slot, part) in hms.iter_mut().zip(parts) {
            *slot = part.parse().map_err(|_| bad())?;
        }
        if hms[0] > 23 || hms[1] > 59 || hms[2] > 59 {
            return Err(bad());
        }
    }
    let days = coffer_core::time::days_from_civil(y, mo as u32, d as u32);
    if coffer_core::time::civil_from_days(days) != (y, mo as u32, d as u32) {
        return Err(bad());
    }
    Ok((days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]) * 1000)
}

/// A moment in the past for `--at`, in milliseconds: `N UNIT ago` (`2 hours ago`,
/// `90m ago`, `3d ago`), a UTC date or time (`2026-12-07`, `2026-12-07T09:00[:00][Z]`),
/// or RFC 3339 with fractional seconds or an offset (`2026-12-07T10:00:00.5+01:00`).
pub fn parse_moment(when: &str, now_ms: i64) -> Result<i64> {
    let when = when.trim();
    let bad = || {
        anyhow::anyhow!(
            "'{when}' is not a moment: give \"2 hours ago\", \"3d ago\", a UTC date or time (2026-12-07, \
             2026-12-07T09:00) or RFC 3339 (2026-12-07T10:00:00+01:00)"
        )
    };
    if let Some(ago) = when.strip_suffix("ago") {
        let ago = ago.trim();
        let digits = ago.find(|c: char| !c.is_ascii_digit()).unwrap_or(ago.len());
        let n: i64 = ago[..digits].parse().map_err(|_| bad())?;
        let unit = match ago[digits..].trim() {
            "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
            "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
            "h" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 7 * 86_400_000,
            _ => return Err(bad()),
        };
        return n.checked_mul(unit).and_then(|d| now_ms.checked_sub(d)).ok_or_else(bad);
    }
    // Only dates here: durations belong to `--expires`.
    if !when.is_ascii() || when.len() < 10 || when.as_bytes()[4] != b'-' {
        return Err(bad());
    }
    let (date, time) = when.split_at(10);
    let mut time = time.to_string();
    let mut offset_ms = 0i64;
    if let Some(at) = time.get(1..).and_then(|t| t.rfind(['+', '-'])).map(|i| i + 1) {
        let (h, m) = time[at + 1..].split_once(':').ok_or_else(bad)?;
        let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 {
            return Err(bad());
        }
        let sign = if &time[at..at + 1] == "-" { -1 } else { 1 };
        offset_ms = sign * (h * 3_600_000 + m * 60_000);
        time.truncate(at);
    }
    let mut frac_ms = 0i64;
    if let Some(dot) = time.find('.') {
        let frac = time[dot + 1..].trim_end_matches(['Z', 'z']).to_string();
        if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        frac_ms = format!("{frac:0<3}")[..3].parse().map_err(|_| bad())?;
        time.truncate(dot);
    }
    let ms = parse_expiry(&format!("{date}{time}"), now_ms).map_err(|_| bad())?;
    Ok(ms + frac_ms - offset_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times() {
        assert_eq!(parse_size("10G").expect("ok"), Some(10 << 30));
        assert_eq!(parse_size("500MiB").expect("ok"), Some(500 << 20));
        assert_eq!(parse_size("1024").expect("ok"), Some(1024));
        assert_eq!(parse_size("none").expect("ok"), None);
        assert!(parse_size("10X").is_err());
        assert!(parse_size("-1").is_err());
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(format_time(1_764_028_800_000), "2025-11-25 00:00:00");
    }

    #[test]
    fn moments_are_ago_utc_dates_or_rfc3339() {
        let now = 1_764_028_800_000 + 86_400_000;
        assert_eq!(parse_moment("2 hours ago", now).expect("ok"), now - 7_200_000);
        assert_eq!(parse_moment("90m ago", now).expect("ok"), now - 5_400_000);
        assert_eq!(parse_moment("3 days ago", now).expect("ok"), now - 3 * 86_400_000);
        assert_eq!(parse_moment("1 week ago", now).expect("ok"), now - 7 * 86_400_000);
        assert_eq!(parse_moment("2025-11-25", now).expect("ok"), 1_764_028_800_000);
        assert_eq!(parse_moment("2025-11-25T01:02", now).expect("ok"), 1_764_028_800_000 + 3_720_000);
        assert_eq!(parse_moment("2025-11-25T01:02:03Z", now).expect("ok"), 1_764_028_800_000 + 3_723_000);
        assert_eq!(parse_moment("2025-11-25T01:02:03.25Z", now).expect("ok"), 1_764_028_800_000 + 3_723_250);
        assert_eq!(parse_moment("2025-11-25T02:02:03+01:00", now).expect("ok"), 1_764_028_800_000 + 3_723_000);
        assert_eq!(parse_moment("2025-11-24T20:32:03-04:30", now).expect("ok"), 1_764_028_800_000 + 3_723_000);
        for bad in [
            "",
            "7d",
            "ago",
            "x ago",
            "2 fortnights ago",
            "2025-02-30",
            "2025-11-25T01:02+25:00",
            "2025-11-25T01:02:03.Z",
            "yesterday",
        ] {
            assert!(parse_moment(bad, now).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn expiries_are_durations_or_utc_dates() {
        let now = 1_000_000;
        assert_eq!(parse_expiry("7d", now).expect("ok"), now + 7 * 86_400_000);
        assert_eq!(parse_expiry("30m", now).expect("ok"), now + 1_800_000);
        assert_eq!(parse_expiry("2w", now).expect("ok"), now + 14 * 86_400_000);
        assert_eq!(parse_expiry("2025-11-25", now).expect("ok"), 1_764_028_800_000);
        assert_eq!(parse_expiry("2025-11-25T01:02", now).expect("ok"), 1_764_028_800_000 + 3_720_000);
        assert_eq!(parse_expiry("2025-11-25T01:02:03Z", now).expect("ok"), 1_764_028_800_000 + 3_723_000);
        for bad in ["", "0d", "-1d", "7x", "d", "2025-02-30", "2025-13-01", "2025-11-25T25:00", "tomorrow"] {
            assert!(parse_expiry(bad, now).is_err(), "{bad}");
        }
    }
}
