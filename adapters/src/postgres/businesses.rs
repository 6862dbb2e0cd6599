//! Businesses: the profile each call is answered with.

use anyhow::Context as _;
use chrono::{Datelike, NaiveDate, NaiveTime, Utc};
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;
use workflows::holidays::{self, Province};
use workflows::schedule::{BusinessProfile, WeeklyHours};
use workflows::{BusinessId, E164, Language};

/// The business seeded by `bella all`, which answers calls to numbers no business claims.
pub const DEFAULT_BUSINESS_ID: BusinessId =
    BusinessId::from_uuid(Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0001));

/// A business as the api needs it: its profile, and the number that chooses it.
#[derive(Debug, Clone)]
pub struct Business {
    pub profile: BusinessProfile,
    pub phone_number: Option<E164>,
    pub is_default: bool,
    pub province: Province,
    /// The business's own closures, without the statutory holidays.
    pub own_holidays: Vec<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct Row {
    business_id: Uuid,
    phone_number: Option<String>,
    name: String,
    time_zone: String,
    hours: Json<WeeklyHours>,
    holidays: Vec<NaiveDate>,
    appointment_minutes: i32,
    min_notice_minutes: i32,
    languages: Vec<String>,
    transfer_number: Option<String>,
    is_default: bool,
    capacity: i64,
    province: String,
    address: Option<String>,
}

impl TryFrom<Row> for Business {
    type Error = anyhow::Error;

    fn try_from(row: Row) -> anyhow::Result<Self> {
        let id = row.business_id;
        let time_zone = row
            .time_zone
            .parse()
            .map_err(|_| anyhow::anyhow!("business {id} has an unknown time zone {:?}", row.time_zone))?;
        let languages = row
            .languages
            .iter()
            .map(|code| code.parse::<Language>())
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("business {id} has an unknown language"))?;
        let phone = |raw: Option<String>| raw.and_then(|n| E164::parse(&n).ok());
        let province: Province = row.province.parse().map_err(|e: String| anyhow::anyhow!("business {id}: {e}"))?;
        // Closed days: the province's statutory holidays for this year and the next, and the
        // business's own.
        let year = Utc::now().year();
        let mut closed: Vec<NaiveDate> = (year..=year + 1)
            .flat_map(|y| holidays::statutory(province, y))
            .map(|(date, _)| date)
            .chain(row.holidays.iter().copied())
            .collect();
        closed.sort();
        closed.dedup();
        Ok(Self {
            profile: BusinessProfile {
                id: BusinessId::from_uuid(id),
                name: row.name,
                time_zone,
                hours: row.hours.0,
                holidays: closed,
                appointment_minutes: u32::try_from(row.appointment_minutes).unwrap_or(30),
                capacity: u32::try_from(row.capacity).unwrap_or(0),
                languages,
                transfer_number: phone(row.transfer_number),
                min_notice_minutes: u32::try_from(row.min_notice_minutes).unwrap_or(0),
                address: row.address,
            },
            phone_number: phone(row.phone_number),
            is_default: row.is_default,
            province,
            own_holidays: row.holidays,
        })
    }
}

/// Every business, with its capacity (the number of its resources).
pub async fn load_all(pool: &PgPool) -> anyhow::Result<Vec<Business>> {
    let rows: Vec<Row> = sqlx::query_as(
        "select b.business_id, b.phone_number, b.name, b.time_zone, b.hours, b.holidays,
                b.appointment_minutes, b.min_notice_minutes, b.languages, b.transfer_number,
                b.is_default, b.province, b.address,
                (select count(*) from resources r where r.business_id = b.business_id) as capacity
           from businesses b
          order by b.created_at",
    )
    .fetch_all(pool)
    .await
    .context("loading businesses")?;
    rows.into_iter().map(Business::try_from).collect()
}

/// Creates the default business when no business is the default yet: Mon-Fri 09:00-17:00,
/// America/Toronto, 30-minute appointments, one resource, English and French (English first):
/// a newcomer's first calls reach it in either language. Safe to call on every start.
pub async fn seed_default(pool: &PgPool) -> anyhow::Result<()> {
    let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
    let hours = WeeklyHours::weekdays(hm(9), hm(17));
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "insert into businesses (business_id, name, time_zone, hours, appointment_minutes, languages, is_default)
         select $1, 'Bella Demo Clinic', 'America/Toronto', $2, 30, '{en,fr}', true
          where not exists (select 1 from businesses where is_default)
         on conflict do nothing",
    )
    .bind(DEFAULT_BUSINESS_ID.as_uuid())
    .bind(Json(&hours))
    .execute(&mut *tx)
    .await
    .context("seeding the default business")?;
    if inserted.rows_affected() > 0 {
        sqlx::query(
            "insert into resources (resource_id, business_id, name) values ($1, $2, 'main') on conflict do nothing",
        )
        .bind(Uuid::now_v7())
        .bind(DEFAULT_BUSINESS_ID.as_uuid())
        .execute(&mut *tx)
        .await?;
        tracing::info!(business = %DEFAULT_BUSINESS_ID, "seeded the default business");
    }
    tx.commit().await?;
    Ok(())
}

/// A business's profile as an operator sets it.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub phone_number: Option<E164>,
    pub time_zone: chrono_tz::Tz,
    pub province: Province,
    pub hours: WeeklyHours,
    pub own_holidays: Vec<NaiveDate>,
    pub appointment_minutes: u32,
    pub min_notice_minutes: u32,
    pub languages: Vec<Language>,
    pub transfer_number: Option<E164>,
    pub address: Option<String>,
    pub resources: u32,
    pub is_default: bool,
}

impl Profile {
    /// The profile of an existing business, for editing.
    pub fn of(business: &Business) -> Self {
        let p = &business.profile;
        Self {
            name: p.name.clone(),
            phone_number: business.phone_number.clone(),
            time_zone: p.time_zone,
            province: business.province,
            hours: p.hours.clone(),
            own_holidays: business.own_holidays.clone(),
            appointment_minutes: p.appointment_minutes,
            min_notice_minutes: p.min_notice_minutes,
            languages: p.languages.clone(),
            transfer_number: p.transfer_number.clone(),
            address: p.address.clone(),
            resources: p.capacity,
            is_default: business.is_default,
        }
    }
}

/// Why a profile cannot be saved, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("another business already answers {0}")]
    NumberTaken(String),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot remove resources: {0} of them hold appointments (past or upcoming) on record")]
    ResourcesInUse(i64),
    #[error("no business {0}")]
    NotFound(Uuid),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn check(profile: &Profile) -> Result<(), SaveError> {
    let invalid = |m: &str| Err(SaveError::Invalid(m.to_owned()));
    if profile.name.trim().is_empty() || profile.name.len() > 200 {
        return invalid("the name must have 1 to 200 characters");
    }
    if !(5..=480).contains(&profile.appointment_minutes) {
        return invalid("appointments must last 5 to 480 minutes");
    }
    if profile.languages.is_empty() {
        return invalid("a business needs at least one language (en, fr)");
    }
    if profile.resources == 0 || profile.resources > 100 {
        return invalid("a business needs 1 to 100 resources");
    }
    Ok(())
}

fn map_unique(error: sqlx::Error, profile: &Profile) -> SaveError {
    let constraint = error.as_database_error().and_then(|e| e.constraint()).map(str::to_owned);
    match constraint.as_deref() {
        Some("businesses_phone_number_key") => {
            SaveError::NumberTaken(profile.phone_number.as_ref().map(|n| n.as_str().to_owned()).unwrap_or_default())
        }
        _ => SaveError::Database(error),
    }
}

/// Creates a business with its resources; returns its id.
pub async fn create(pool: &PgPool, profile: &Profile) -> Result<BusinessId, SaveError> {
    let mut tx = pool.begin().await?;
    let id = create_in(&mut tx, profile).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`create`] inside the caller's transaction (the operator verbs write their audit row in it).
pub async fn create_in(tx: &mut sqlx::PgConnection, profile: &Profile) -> Result<BusinessId, SaveError> {
    check(profile)?;
    let id = Uuid::now_v7();
    if profile.is_default {
        sqlx::query("update businesses set is_default = false where is_default").execute(&mut *tx).await?;
    }
    sqlx::query(
        "insert into businesses (business_id, phone_number, name, time_zone, province, hours, holidays,
                                 appointment_minutes, min_notice_minutes, languages, transfer_number, address,
                                 is_default)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(id)
    .bind(profile.phone_number.as_ref().map(E164::as_str))
    .bind(profile.name.trim())
    .bind(profile.time_zone.name())
    .bind(profile.province.code())
    .bind(Json(&profile.hours))
    .bind(&profile.own_holidays)
    .bind(i32::try_from(profile.appointment_minutes).unwrap_or(30))
    .bind(i32::try_from(profile.min_notice_minutes).unwrap_or(0))
    .bind(profile.languages.iter().map(|l| l.code()).collect::<Vec<_>>())
    .bind(profile.transfer_number.as_ref().map(E164::as_str))
    .bind(profile.address.as_deref())
    .bind(profile.is_default)
    .execute(&mut *tx)
    .await
    .map_err(|e| map_unique(e, profile))?;
    set_resources(&mut *tx, id, profile.resources).await?;
    Ok(BusinessId::from_uuid(id))
}

/// Replaces a business's profile.
pub async fn update(pool: &PgPool, id: BusinessId, profile: &Profile) -> Result<(), SaveError> {
    let mut tx = pool.begin().await?;
    update_in(&mut tx, id, profile).await?;
    tx.commit().await?;
    Ok(())
}

/// [`update`] inside the caller's transaction.
pub async fn update_in(tx: &mut sqlx::PgConnection, id: BusinessId, profile: &Profile) -> Result<(), SaveError> {
    check(profile)?;
    if profile.is_default {
        sqlx::query("update businesses set is_default = false where is_default and business_id <> $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await?;
    }
    let updated = sqlx::query(
        "update businesses
            set phone_number = $2, name = $3, time_zone = $4, province = $5, hours = $6, holidays = $7,
                appointment_minutes = $8, min_notice_minutes = $9, languages = $10, transfer_number = $11,
                address = $12, is_default = $13, updated_at = now()
          where business_id = $1",
    )
    .bind(id.as_uuid())
    .bind(profile.phone_number.as_ref().map(E164::as_str))
    .bind(profile.name.trim())
    .bind(profile.time_zone.name())
    .bind(profile.province.code())
    .bind(Json(&profile.hours))
    .bind(&profile.own_holidays)
    .bind(i32::try_from(profile.appointment_minutes).unwrap_or(30))
    .bind(i32::try_from(profile.min_notice_minutes).unwrap_or(0))
    .bind(profile.languages.iter().map(|l| l.code()).collect::<Vec<_>>())
    .bind(profile.transfer_number.as_ref().map(E164::as_str))
    .bind(profile.address.as_deref())
    .bind(profile.is_default)
    .execute(&mut *tx)
    .await
    .map_err(|e| map_unique(e, profile))?;
    if updated.rows_affected() == 0 {
        return Err(SaveError::NotFound(id.as_uuid()));
    }
    set_resources(&mut *tx, id.as_uuid(), profile.resources).await?;
    Ok(())
}

/// Adds resources up to `count`, or removes the last ones when no appointment refers to them.
async fn set_resources(tx: &mut sqlx::PgConnection, business: Uuid, count: u32) -> Result<(), SaveError> {
    let existing: Vec<(Uuid, String)> =
        sqlx::query_as("select resource_id, name from resources where business_id = $1 order by created_at, name")
            .bind(business)
            .fetch_all(&mut *tx)
            .await?;
    let want = count as usize;
    for n in existing.len()..want {
        sqlx::query("insert into resources (resource_id, business_id, name) values ($1, $2, $3)")
            .bind(Uuid::now_v7())
            .bind(business)
            .bind(format!("resource {}", n + 1))
            .execute(&mut *tx)
            .await?;
    }
    if existing.len() > want {
        let surplus: Vec<Uuid> = existing[want..].iter().map(|(id, _)| *id).collect();
        let busy: i64 =
            sqlx::query_scalar("select count(distinct resource_id) from appointments where resource_id = any($1)")
                .bind(&surplus)
                .fetch_one(&mut *tx)
                .await?;
        if busy > 0 {
            return Err(SaveError::ResourcesInUse(busy));
        }
        sqlx::query("delete from resources where resource_id = any($1)").bind(&surplus).execute(&mut *tx).await?;
    }
    Ok(())
}
