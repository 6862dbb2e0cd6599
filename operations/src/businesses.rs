//! Businesses: list, show, create and edit the profile a call is answered with.
//!
//! A change names only the fields it sets ([`Changes`]); the rest keep their value (on create,
//! the defaults: Mon-Fri 09:00-17:00, America/Toronto, Ontario, 30-minute appointments, one
//! resource, English). Each field is checked and a bad one is named in the error. The audit row
//! is written in the transaction of the change.

use adapters::postgres::businesses::{self as store, Business, Profile, SaveError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;
use workflows::holidays::Province;
use workflows::schedule::WeeklyHours;
use workflows::{E164, Language};

use super::audit::{self, Entry};
use super::{Actor, AdminError, Outcome};

/// A business as operators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BusinessView {
    pub id: Uuid,
    pub name: String,
    /// The number callers dial (E.164), if the business has one.
    pub phone_number: Option<String>,
    /// Answers calls to numbers no business claims.
    pub is_default: bool,
    pub time_zone: String,
    pub province: String,
    /// Opening hours: `mon-fri 09:00-17:00; sat 10:00-14:00`.
    pub hours: String,
    pub appointment_minutes: u32,
    /// Appointments that can run at once (chairs, rooms).
    pub resources: u32,
    pub min_notice_minutes: u32,
    /// Language codes, the greeting's first: `["fr", "en"]`.
    pub languages: Vec<String>,
    pub transfer_number: Option<String>,
    pub address: Option<String>,
    /// The business's own closed days, on top of its province's statutory holidays.
    pub own_holidays: Vec<NaiveDate>,
}

impl From<&Business> for BusinessView {
    fn from(business: &Business) -> Self {
        let p = &business.profile;
        Self {
            id: p.id.as_uuid(),
            name: p.name.clone(),
            phone_number: business.phone_number.as_ref().map(|n| n.as_str().to_owned()),
            is_default: business.is_default,
            time_zone: p.time_zone.name().to_owned(),
            province: business.province.code().to_owned(),
            hours: p.hours.to_string(),
            appointment_minutes: p.appointment_minutes,
            resources: p.capacity,
            min_notice_minutes: p.min_notice_minutes,
            languages: p.languages.iter().map(|l| l.code().to_owned()).collect(),
            transfer_number: p.transfer_number.as_ref().map(|n| n.as_str().to_owned()),
            address: p.address.clone(),
            own_holidays: business.own_holidays.clone(),
        }
    }
}

/// The fields to set; absent ones are left as they are. For the phone numbers and the address,
/// an empty string removes the value.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    pub name: Option<String>,
    /// The Twilio number callers dial, in E.164 (`+15145550100`); `""` removes it.
    pub phone_number: Option<String>,
    /// An IANA zone: `America/Toronto`, `America/Vancouver`.
    pub time_zone: Option<String>,
    /// Two letters: `ON`, `QC`, ...; its statutory holidays are closed days.
    pub province: Option<String>,
    /// `mon-fri 09:00-17:00; sat 10:00-14:00`.
    pub hours: Option<String>,
    pub appointment_minutes: Option<u32>,
    pub resources: Option<u32>,
    pub min_notice_minutes: Option<u32>,
    /// `en`, `fr`, or `fr,en` (the greeting's language first).
    pub languages: Option<String>,
    /// Where a caller asking for a person is transferred; `""` removes it.
    pub transfer_number: Option<String>,
    /// The address Bella reads out; `""` removes it.
    pub address: Option<String>,
    /// Replaces the business's own closed days.
    pub own_holidays: Option<Vec<NaiveDate>>,
    /// Makes this the business that answers numbers no business claims.
    pub is_default: Option<bool>,
}

fn invalid(message: String) -> AdminError {
    AdminError::Invalid(message)
}

fn number(field: &str, raw: &str) -> Result<Option<E164>, AdminError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    E164::parse(raw).map(Some).map_err(|problem| invalid(format!("{field}: {raw:?} is not a phone number: {problem}")))
}

impl Changes {
    /// Applies the changes to `profile`, naming the first field that is not valid.
    pub fn apply(&self, profile: &mut Profile) -> Result<(), AdminError> {
        if let Some(name) = &self.name {
            name.trim().clone_into(&mut profile.name);
        }
        if let Some(raw) = &self.phone_number {
            profile.phone_number = number("phone_number", raw)?;
        }
        if let Some(zone) = &self.time_zone {
            profile.time_zone = zone.trim().parse().map_err(|_| {
                invalid(format!("time_zone: {zone:?} is not an IANA time zone (such as America/Toronto)"))
            })?;
        }
        if let Some(province) = &self.province {
            profile.province = province
                .trim()
                .to_ascii_uppercase()
                .parse::<Province>()
                .map_err(|problem| invalid(format!("province: {problem}")))?;
        }
        if let Some(hours) = &self.hours {
            profile.hours = WeeklyHours::parse(hours).map_err(|problem| invalid(format!("hours: {problem}")))?;
        }
        if let Some(minutes) = self.appointment_minutes {
            profile.appointment_minutes = minutes;
        }
        if let Some(resources) = self.resources {
            profile.resources = resources;
        }
        if let Some(minutes) = self.min_notice_minutes {
            profile.min_notice_minutes = minutes;
        }
        if let Some(codes) = &self.languages {
            let mut languages = Vec::new();
            for code in codes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                let language = code
                    .parse::<Language>()
                    .map_err(|_| invalid(format!("languages: {code:?} is not a language Bella speaks (en, fr)")))?;
                if !languages.contains(&language) {
                    languages.push(language);
                }
            }
            profile.languages = languages;
        }
        if let Some(raw) = &self.transfer_number {
            profile.transfer_number = number("transfer_number", raw)?;
        }
        if let Some(address) = &self.address {
            profile.address = Some(address.trim().to_owned()).filter(|a| !a.is_empty());
        }
        if let Some(days) = &self.own_holidays {
            let mut days = days.clone();
            days.sort();
            days.dedup();
            profile.own_holidays = days;
        }
        if let Some(is_default) = self.is_default {
            if profile.is_default && !is_default {
                // Some business must answer the numbers no business claims.
                return Err(invalid(
                    "is_default: this business stops being the default when another one becomes it; make the other one the default".into(),
                ));
            }
            profile.is_default = is_default;
        }
        Ok(())
    }

    /// The names of the fields set, for the audit log (values stay out of it).
    fn fields(&self) -> Vec<&'static str> {
        let set = [
            ("name", self.name.is_some()),
            ("phone_number", self.phone_number.is_some()),
            ("time_zone", self.time_zone.is_some()),
            ("province", self.province.is_some()),
            ("hours", self.hours.is_some()),
            ("appointment_minutes", self.appointment_minutes.is_some()),
            ("resources", self.resources.is_some()),
            ("min_notice_minutes", self.min_notice_minutes.is_some()),
            ("languages", self.languages.is_some()),
            ("transfer_number", self.transfer_number.is_some()),
            ("address", self.address.is_some()),
            ("own_holidays", self.own_holidays.is_some()),
            ("is_default", self.is_default.is_some()),
        ];
        set.into_iter().filter(|(_, present)| *present).map(|(name, _)| name).collect()
    }
}

/// The profile a new business starts from.
pub fn default_profile() -> Profile {
    Profile {
        name: String::new(),
        phone_number: None,
        time_zone: chrono_tz::America::Toronto,
        province: Province::ON,
        hours: WeeklyHours::parse("mon-fri 09:00-17:00").unwrap_or_default(),
        own_holidays: Vec::new(),
        appointment_minutes: 30,
        min_notice_minutes: 0,
        languages: vec![Language::En],
        transfer_number: None,
        address: None,
        resources: 1,
        is_default: false,
    }
}

impl From<SaveError> for AdminError {
    fn from(error: SaveError) -> Self {
        match error {
            SaveError::NumberTaken(_) | SaveError::ResourcesInUse(_) => Self::Conflict(error.to_string()),
            SaveError::Invalid(message) => Self::Invalid(message),
            SaveError::NotFound(id) => Self::NotFound(format!("no business {id}")),
            SaveError::Database(error) => Self::Database(error),
        }
    }
}

/// Every business, the default first.
pub async fn list(pool: &PgPool) -> Result<Vec<BusinessView>, AdminError> {
    let mut all: Vec<BusinessView> = store::load_all(pool).await?.iter().map(BusinessView::from).collect();
    all.sort_by(|a, b| b.is_default.cmp(&a.is_default).then_with(|| a.name.cmp(&b.name)));
    Ok(all)
}

/// The business with this id, or with this number, or `default`.
pub async fn find(pool: &PgPool, which: &str) -> Result<Business, AdminError> {
    let which = which.trim();
    let wanted = E164::parse(which).ok();
    store::load_all(pool)
        .await?
        .into_iter()
        .find(|b| {
            b.profile.id.to_string() == which
                || (which == "default" && b.is_default)
                || (wanted.is_some() && b.phone_number == wanted)
        })
        .ok_or_else(|| AdminError::NotFound(format!("no business {which:?}: give its id, its number, or \"default\"")))
}

/// A new business. `changes` must name it.
pub async fn create(pool: &PgPool, actor: &Actor, changes: &Changes, reason: &str) -> Result<Saved, AdminError> {
    actor.require_operator()?;
    let reason = super::reason(reason)?;
    if changes.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(invalid("name: a new business needs a name".into()));
    }
    let mut profile = default_profile();
    changes.apply(&mut profile)?;
    let mut tx = pool.begin().await?;
    let id = store::create_in(&mut tx, &profile).await?;
    let entry = Entry {
        actor,
        action: "businesses.create",
        target: json!({ "business_id": id.as_uuid(), "name": profile.name, "fields": changes.fields() }),
        reason: &reason,
        dry_run: false,
        affected: 1,
        result: "created",
    };
    let outcome = audit::outcome(&mut *tx, &entry).await?;
    tx.commit().await?;
    Ok(Saved { id: id.as_uuid(), outcome })
}

/// Changes some fields of a business (by id, number or `default`).
pub async fn edit(
    pool: &PgPool,
    actor: &Actor,
    which: &str,
    changes: &Changes,
    reason: &str,
) -> Result<Saved, AdminError> {
    actor.require_operator()?;
    let reason = super::reason(reason)?;
    let business = find(pool, which).await?;
    let before = Profile::of(&business);
    let mut profile = before.clone();
    changes.apply(&mut profile)?;
    let id = business.profile.id;
    let mut tx = pool.begin().await?;
    let changed = changed_fields(&before, &profile);
    let unchanged = changed.is_empty();
    if !unchanged {
        store::update_in(&mut tx, id, &profile).await?;
    }
    let entry = Entry {
        actor,
        action: "businesses.edit",
        target: json!({ "business_id": id.as_uuid(), "name": profile.name, "fields": changed }),
        reason: &reason,
        dry_run: false,
        affected: u64::from(!unchanged),
        result: if unchanged { "already so: nothing changed" } else { "edited" },
    };
    let outcome = audit::outcome(&mut *tx, &entry).await?;
    tx.commit().await?;
    Ok(Saved { id: id.as_uuid(), outcome })
}

/// The fields that differ between two profiles: what an edit changed, for the audit log.
fn changed_fields(a: &Profile, b: &Profile) -> Vec<&'static str> {
    let fields = [
        ("name", a.name != b.name),
        ("phone_number", a.phone_number != b.phone_number),
        ("time_zone", a.time_zone != b.time_zone),
        ("province", a.province != b.province),
        ("hours", a.hours != b.hours),
        ("own_holidays", a.own_holidays != b.own_holidays),
        ("appointment_minutes", a.appointment_minutes != b.appointment_minutes),
        ("min_notice_minutes", a.min_notice_minutes != b.min_notice_minutes),
        ("languages", a.languages != b.languages),
        ("transfer_number", a.transfer_number != b.transfer_number),
        ("address", a.address != b.address),
        ("resources", a.resources != b.resources),
        ("is_default", a.is_default != b.is_default),
    ];
    fields.into_iter().filter(|(_, differs)| *differs).map(|(name, _)| name).collect()
}

/// A business created or edited.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Saved {
    pub id: Uuid,
    #[serde(flatten)]
    pub outcome: Outcome,
}
