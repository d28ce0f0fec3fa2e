//! `kvartal admin create` (the first administrator) and `kvartal audit verify`.

use std::sync::Arc;

use anyhow::bail;
use schema::audit::Author;
use schema::clock::{Clock, SystemClock};
use schema::registry::drafts::OrganisationDraft;
use schema::registry::Registry;
use sea_orm::DatabaseConnection;

#[allow(clippy::too_many_arguments)]
/// Makes `email` an admin of `org` (an id or exact name; created when no
/// organisation has that name). Without a password, one is generated and printed.
pub async fn create_admin(
    db: &DatabaseConnection,
    email: &str,
    org: &str,
    name: Option<String>,
    password: Option<String>,
    currency: &str,
    locale: &str,
    time_zone: &str,
) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let org_id = match crate::cli::find_org(db, org).await {
        Ok(id) => id,
        Err(_) if uuid::Uuid::parse_str(org).is_err() => {
            let registry = Registry::new(db.clone(), clock.clone());
            let by = Author::system("kvartal admin create", "Mutation.createOrganisation");
            let created = registry
                .create_organisation(
                    &by,
                    OrganisationDraft {
                        name: org.to_string(),
                        currency: currency.to_string(),
                        locale: locale.to_string(),
                        time_zone: time_zone.to_string(),
                        legal_name: String::new(),
                        tax_id: String::new(),
                        bank_account: String::new(),
                        bank_id: String::new(),
                        bank_name: String::new(),
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("cannot create the organisation: {e}"))?;
            println!("created organisation '{}' ({})", created.name, created.id);
            created.id
        }
        Err(e) => return Err(e),
    };
    let auth = crate::local_auth(db, clock.clone());
    let existing = auth
        .user_by_email(email)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (password, shown) = match (password, &existing) {
        (Some(p), _) => (Some(p), None),
        (None, Some(_)) => (None, None),
        (None, None) => {
            let generated = schema::auth::sessions::new_token()
                .map_err(|e| anyhow::anyhow!("{e}"))?[..20]
                .to_string();
            (Some(generated.clone()), Some(generated))
        }
    };
    let display = name.unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_string());
    let user = auth
        .bootstrap_admin(org_id, email, &display, password)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the administrator: {e}"))?;
    println!(
        "{} is an administrator of organisation {org_id}",
        user.email
    );
    if let Some(p) = shown {
        println!("password (shown once): {p}");
    } else if existing.is_some() {
        println!("the user already existed; their password is unchanged");
    }
    Ok(())
}

/// Checks every organisation's audit chain; fails when one is broken.
pub async fn verify_audit(
    db: &DatabaseConnection,
    org: Option<&str>,
    key: Option<&schema::audit::AuditKey>,
) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let reports = schema::tenancy::as_system(async {
        match org {
            Some(o) => {
                let id = crate::cli::find_org(db, o).await?;
                Ok::<_, anyhow::Error>(vec![schema::audit::verify_chain(db, id, key, now)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?])
            }
            None => schema::audit::verify_all(db, key, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}")),
        }
    })
    .await?;
    if key.is_none() {
        println!(
            "no audit key is set (KVARTAL_AUDIT_KEY): checkpoints are neither written nor checked"
        );
    }
    let mut broken = 0;
    for r in &reports {
        match &r.broken {
            None => println!(
                "organisation {}: {} entries, {} checkpoints, chain intact",
                r.organisation_id, r.entries, r.checkpoints
            ),
            Some((seq, why)) => {
                broken += 1;
                println!(
                    "organisation {}: {} entries, BROKEN at entry {seq}: {why}",
                    r.organisation_id, r.entries
                );
            }
        }
        for note in &r.notes {
            println!("  note: {note}");
        }
    }
    if broken > 0 {
        bail!("{broken} audit chain(s) broken");
    }
    Ok(())
}
