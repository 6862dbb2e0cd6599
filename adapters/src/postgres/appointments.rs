//! Appointments as the api reads them: busy times for availability, and the admin listing.

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;
use workflows::dialogue::{CallerHistory, Existing};
use workflows::extract::PersonName;
use workflows::schedule::Slot;
use workflows::{AppointmentRef, BusinessId, E164};

/// Booked appointments of a business overlapping `[from, to)`.
pub async fn busy(
    pool: &PgPool,
    business: BusinessId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Vec<Slot>> {
    let rows: Vec<(DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "select starts_at, ends_at from appointments
          where business_id = $1 and status = 'booked' and starts_at < $3 and ends_at > $2
          order by starts_at",
    )
    .bind(business.as_uuid())
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .context("loading busy times")?;
    Ok(rows.into_iter().map(|(starts_at, ends_at)| Slot { starts_at, ends_at }).collect())
}

/// Filters of the admin listing; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub call_sid: Option<String>,
    pub business: Option<BusinessId>,
    pub status: Option<String>,
    /// Appointments starting at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Appointments starting before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Appointments on or after this local date (in each business's zone).
    pub from_date: Option<NaiveDate>,
    /// Appointments on or before this local date.
    pub to_date: Option<NaiveDate>,
    pub limit: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppointmentView {
    pub appointment_id: Uuid,
    pub reference: String,
    pub call_sid: Option<String>,
    pub business_id: Uuid,
    pub business_name: String,
    pub time_zone: String,
    pub name: String,
    /// The name is as Bella heard it: a person checks it.
    pub name_to_check: bool,
    pub phone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
    pub language: String,
}

pub async fn list(pool: &PgPool, filter: &Filter) -> anyhow::Result<Vec<AppointmentView>> {
    sqlx::query_as(
        "select a.appointment_id, a.reference, a.call_sid, a.business_id, b.name as business_name,
                b.time_zone, a.name, a.name_to_check, a.phone, a.starts_at, a.ends_at, a.status, a.language
           from appointments a
           join businesses b using (business_id)
          where ($1::text is null or a.call_sid = $1)
            and ($2::uuid is null or a.business_id = $2)
            and ($3::text is null or a.status = $3)
            and ($4::timestamptz is null or a.starts_at >= $4)
            and ($5::timestamptz is null or a.starts_at < $5)
            and ($6::date is null or (a.starts_at at time zone b.time_zone)::date >= $6)
            and ($7::date is null or (a.starts_at at time zone b.time_zone)::date <= $7)
          order by a.starts_at, a.reference
          limit $8",
    )
    .bind(filter.call_sid.as_deref())
    .bind(filter.business.map(|b| b.as_uuid()))
    .bind(filter.status.as_deref())
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.from_date)
    .bind(filter.to_date)
    .bind(filter.limit)
    .fetch_all(pool)
    .await
    .context("listing appointments")
}

/// `appointment_id, reference, starts_at, ends_at, name`.
type ExistingRow = (Uuid, String, DateTime<Utc>, DateTime<Utc>, String);

/// The booked appointments of `phone` at a business that start after `now`, soonest first.
pub async fn upcoming(
    pool: &PgPool,
    business: BusinessId,
    phone: &E164,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Existing>> {
    let rows: Vec<ExistingRow> = sqlx::query_as(
        "select appointment_id, reference, starts_at, ends_at, name from appointments
          where business_id = $1 and phone = $2 and status = 'booked' and starts_at > $3
          order by starts_at
          limit 5",
    )
    .bind(business.as_uuid())
    .bind(phone.as_str())
    .bind(now)
    .fetch_all(pool)
    .await
    .context("looking up the caller's appointments")?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, reference, starts_at, ends_at, name)| {
            Some(Existing {
                id,
                reference: AppointmentRef::parse(&reference).ok()?,
                slot: Slot { starts_at, ends_at },
                name: PersonName::parse(&name)?,
            })
        })
        .collect())
}

/// What the business knows about a caller: the name of their latest appointment, and their
/// upcoming ones.
pub async fn history(
    pool: &PgPool,
    business: BusinessId,
    phone: &E164,
    now: DateTime<Utc>,
) -> anyhow::Result<CallerHistory> {
    let name: Option<String> = sqlx::query_scalar(
        "select name from appointments
          where business_id = $1 and phone = $2 and not name_to_check
          order by created_at desc limit 1",
    )
    .bind(business.as_uuid())
    .bind(phone.as_str())
    .fetch_optional(pool)
    .await
    .context("looking up the caller's name")?;
    Ok(CallerHistory {
        name: name.and_then(|n| PersonName::parse(&n)),
        upcoming: upcoming(pool, business, phone, now).await?,
    })
}
