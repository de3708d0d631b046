//! The account's own security: two-factor sign-in, the password, devices and sessions,
//! app passwords.

use anyhow::Result;

use std::io::IsTerminal;

use coffer_core::wire::{DeviceInfo, DeviceKind};

use crate::commands::{client, now_ms};
use crate::output::{format_time, parse_moment, print_json, read_password};
use crate::{AppPasswordCommand, AuditCommand, DevicesCommand, PasswordCommand, TwoFactorCommand};

/// The otpauth URI as a QR code drawn with Unicode half blocks, for a terminal.
fn terminal_qr(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

pub(crate) async fn two_factor(cmd: TwoFactorCommand, json: bool) -> Result<u8> {
    let c = client()?;
    match cmd {
        TwoFactorCommand::Status => {
            let st = c.two_factor().await?;
            if json {
                print_json(&st)?;
            } else if st.enabled {
                println!("two-factor sign-in is on ({} recovery code(s) left)", st.recovery_codes_left);
            } else if st.pending {
                println!("two-factor sign-in is being set up: `coffer 2fa confirm CODE` with the app's code");
            } else {
                println!("two-factor sign-in is off (`coffer 2fa enable` to set it up)");
            }
        }
        TwoFactorCommand::Enable => {
            let setup = c.two_factor_enable().await?;
            if json {
                print_json(&serde_json::json!({"otpauth_uri": setup.otpauth_uri, "secret": setup.secret}))?;
            } else {
                if let Some(qr) = terminal_qr(&setup.otpauth_uri) {
                    println!("{qr}");
                }
                println!("Scan the QR code with an authenticator app, or add this key by hand:");
                println!("  {}", setup.secret);
                println!("  {}", setup.otpauth_uri);
                println!("Then turn it on with the app's current code: coffer 2fa confirm CODE");
            }
        }
        TwoFactorCommand::Confirm { code } => {
            let codes = c.two_factor_confirm(&code).await?;
            if json {
                print_json(&codes)?;
            } else {
                println!(
                    "two-factor sign-in is on. Recovery codes (each works once; keep them safe, they are not shown again):"
                );
                for code in &codes.codes {
                    println!("  {code}");
                }
            }
        }
        TwoFactorCommand::Disable { code } => {
            let password = read_password("Password: ")?;
            let code = match code {
                Some(code) => code,
                None => read_password("Code from your authenticator app (or a recovery code): ")?,
            };
            c.two_factor_disable(&password, &code).await?;
            if json {
                print_json(&serde_json::json!({"enabled": false}))?;
            } else {
                println!("two-factor sign-in is off");
            }
        }
    }
    Ok(0)
}

pub(crate) async fn password(cmd: PasswordCommand, json: bool) -> Result<u8> {
    let c = client()?;
    match cmd {
        PasswordCommand::Change => {
            let current = read_password("Current password: ")?;
            let new = read_password("New password: ")?;
            if std::io::stdin().is_terminal() && read_password("New password again: ")? != new {
                anyhow::bail!("the new passwords do not match");
            }
            let n = c.change_password(&current, &new).await?.revoked;
            if json {
                print_json(&serde_json::json!({"changed": true, "revoked": n}))?;
            } else {
                println!("password changed; {n} other device(s) and browser(s) signed out");
            }
        }
    }
    Ok(0)
}

/// What a credential is, in words.
fn kind_words(d: &DeviceInfo) -> &'static str {
    match (d.kind, d.read_only) {
        (DeviceKind::Device, _) => "device",
        (DeviceKind::Browser, _) => "browser",
        (DeviceKind::AppPassword, false) => "app password",
        (DeviceKind::AppPassword, true) => "app password, read-only",
    }
}

fn print_credentials(list: &[DeviceInfo]) {
    for d in list {
        let mark = if d.current { "*" } else { " " };
        let from = d.last_address.as_deref().map(|a| format!(" from {a}")).unwrap_or_default();
        println!(
            "{mark} {:>5}  {} ({})  made {}, last seen {}{from}",
            d.id,
            d.name,
            kind_words(d),
            format_time(d.created_at),
            format_time(d.last_seen_at)
        );
    }
}

pub(crate) async fn devices(cmd: DevicesCommand, json: bool) -> Result<u8> {
    let c = client()?;
    match cmd {
        DevicesCommand::Ls => {
            let devices = c.devices().await?;
            if json {
                print_json(&devices)?;
            } else {
                print_credentials(&devices);
            }
        }
        DevicesCommand::Revoke { id: Some(id), .. } => {
            c.revoke_device(id).await?;
            if json { print_json(&serde_json::json!({"revoked": id}))? } else { println!("revoked {id}") }
        }
        DevicesCommand::Revoke { id: None, .. } => {
            let n = c.revoke_other_devices().await?.revoked;
            if json {
                print_json(&serde_json::json!({"revoked": n}))?
            } else {
                println!("signed out {n} other device(s), browser(s) and app password(s)")
            }
        }
    }
    Ok(0)
}

pub(crate) async fn app_password(cmd: AppPasswordCommand, json: bool) -> Result<u8> {
    let c = client()?;
    match cmd {
        AppPasswordCommand::Create { name, read_only } => {
            let made = c.create_app_password(&name, read_only).await?;
            if json {
                print_json(&made)?;
            } else {
                let scope = if made.read_only { "read-only" } else { "all files" };
                println!("app password {} \"{}\" ({scope}) for user {}:", made.id, made.name, made.user);
                println!("  {}", made.password);
                println!("It is shown only now. Give it to the app as the password of user {}.", made.user);
            }
        }
        AppPasswordCommand::Ls => {
            let list = c.app_passwords().await?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("no app passwords (`coffer app-password create NAME` makes one)");
            } else {
                print_credentials(&list);
            }
        }
        AppPasswordCommand::Rm { id } => {
            c.revoke_app_password(id).await?;
            if json { print_json(&serde_json::json!({"revoked": id}))? } else { println!("revoked app password {id}") }
        }
    }
    Ok(0)
}

pub(crate) async fn audit(cmd: AuditCommand, json: bool) -> Result<u8> {
    let AuditCommand::Ls { since, until, kind, user, limit } = cmd;
    let now = now_ms();
    let moment = |t: &Option<String>| t.as_deref().map(|t| parse_moment(t, now)).transpose();
    let mut query = coffer_core::wire::AuditQuery {
        since: moment(&since)?,
        until: moment(&until)?,
        kind: (!kind.is_empty()).then(|| kind.join(",")),
        user,
        before: None,
        limit: None,
    };
    let c = client()?;
    // Pages of up to 1000 until `limit` events or the end.
    let mut entries = Vec::new();
    while entries.len() < limit {
        query.limit = Some((limit - entries.len()).min(coffer_core::wire::MAX_AUDIT_PAGE as usize) as i64);
        let page = c.audit(&query).await?;
        entries.extend(page.entries);
        match page.next_before {
            Some(before) => query.before = Some(before),
            None => break,
        }
    }
    if json {
        print_json(&entries)?;
        return Ok(0);
    }
    if entries.is_empty() {
        println!("no events");
    }
    for e in &entries {
        let mut line = format!("{}  {:<20}", format_time(e.at), e.kind);
        if let Some(actor) = &e.actor {
            line.push_str(&format!("  by {actor}"));
        }
        if let Some(id) = e.credential_id {
            line.push_str(&format!(" (credential {id})"));
        }
        if let Some(a) = &e.address {
            line.push_str(&format!(" from {a}"));
        }
        if let Some(t) = &e.target {
            line.push_str(&format!("  {t}"));
        }
        if let Some(d) = &e.detail {
            line.push_str(&format!(": {d}"));
        }
        println!("{line}");
    }
    Ok(0)
}
