//! The account's own security: two-factor sign-in, the password.

use anyhow::Result;

use std::io::IsTerminal;

use crate::commands::client;
use crate::output::{print_json, read_password};
use crate::{PasswordCommand, TwoFactorCommand};

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
