//! `bella admin business list|show|create|edit`: the business profile.

use adapters::postgres::businesses::{self, Business, Profile};
use anyhow::Context as _;
use chrono::NaiveDate;
use sqlx::PgPool;
use workflows::holidays::{self, Province};
use workflows::schedule::WeeklyHours;
use workflows::{E164, Language};

/// The fields of a profile, each optional when editing.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Fields {
    /// The business's name, as Bella says it.
    #[arg(long)]
    pub name: Option<String>,
    /// The Twilio number callers dial (E.164); calls to it reach this business.
    #[arg(long)]
    pub number: Option<String>,
    /// IANA time zone, such as America/Toronto or America/Vancouver.
    #[arg(long = "time-zone")]
    pub time_zone: Option<chrono_tz::Tz>,
    /// Two-letter province: its statutory holidays are closed days.
    #[arg(long)]
    pub province: Option<Province>,
    /// Opening hours, such as "mon-fri 09:00-17:00; sat 10:00-14:00".
    #[arg(long)]
    pub hours: Option<String>,
    /// Minutes per appointment.
    #[arg(long = "appointment-minutes")]
    pub appointment_minutes: Option<u32>,
    /// How many appointments can run at once (chairs, rooms).
    #[arg(long)]
    pub resources: Option<u32>,
    /// Languages, the greeting language first: en, fr, "fr,en".
    #[arg(long, value_delimiter = ',')]
    pub languages: Option<Vec<Language>>,
    /// The number calls are transferred to when a caller asks for a person.
    #[arg(long)]
    pub transfer: Option<String>,
    /// Minimum notice in minutes before an appointment can be booked.
    #[arg(long = "min-notice")]
    pub min_notice: Option<u32>,
    /// The address Bella reads out.
    #[arg(long)]
    pub address: Option<String>,
    /// A closed day of the business's own (repeatable), on top of statutory holidays.
    #[arg(long = "holiday")]
    pub holidays: Vec<NaiveDate>,
    /// Replace the business's own closed days by those given with --holiday.
    #[arg(long = "clear-holidays")]
    pub clear_holidays: bool,
    /// Remove the transfer number.
    #[arg(long = "no-transfer")]
    pub no_transfer: bool,
    /// Make this the business that answers numbers no business claims.
    #[arg(long)]
    pub default: bool,
}

fn number(flag: &str, raw: &str) -> anyhow::Result<E164> {
    E164::parse(raw).map_err(|problem| anyhow::anyhow!("--{flag} {raw:?} is not a valid phone number: {problem}"))
}

impl Fields {
    /// Applies the fields given to `profile`.
    pub fn apply(&self, profile: &mut Profile) -> anyhow::Result<()> {
        if let Some(name) = &self.name {
            profile.name.clone_from(name);
        }
        if let Some(raw) = &self.number {
            profile.phone_number = Some(number("number", raw)?);
        }
        if let Some(zone) = self.time_zone {
            profile.time_zone = zone;
        }
        if let Some(province) = self.province {
            profile.province = province;
        }
        if let Some(hours) = &self.hours {
            profile.hours = WeeklyHours::parse(hours).map_err(|e| anyhow::anyhow!("--hours: {e}"))?;
        }
        if let Some(minutes) = self.appointment_minutes {
            profile.appointment_minutes = minutes;
        }
        if let Some(resources) = self.resources {
            profile.resources = resources;
        }
        if let Some(languages) = &self.languages {
            profile.languages.clone_from(languages);
        }
        if let Some(raw) = &self.transfer {
            profile.transfer_number = Some(number("transfer", raw)?);
        }
        if self.no_transfer {
            profile.transfer_number = None;
        }
        if let Some(minutes) = self.min_notice {
            profile.min_notice_minutes = minutes;
        }
        if let Some(address) = &self.address {
            profile.address = Some(address.clone()).filter(|a| !a.trim().is_empty());
        }
        if self.clear_holidays {
            profile.own_holidays.clear();
        }
        profile.own_holidays.extend(self.holidays.iter().copied());
        profile.own_holidays.sort();
        profile.own_holidays.dedup();
        if self.default {
            profile.is_default = true;
        }
        Ok(())
    }
}

/// A new profile: the defaults of the seeded business, then the fields given.
pub fn new_profile(fields: &Fields) -> anyhow::Result<Profile> {
    let name = fields.name.clone().context("--name is required to create a business")?;
    let mut profile = Profile {
        name,
        phone_number: None,
        time_zone: chrono_tz::America::Toronto,
        province: Province::ON,
        hours: WeeklyHours::parse("mon-fri 09:00-17:00").map_err(anyhow::Error::msg)?,
        own_holidays: Vec::new(),
        appointment_minutes: 30,
        min_notice_minutes: 0,
        languages: vec![Language::En],
        transfer_number: None,
        address: None,
        resources: 1,
        is_default: false,
    };
    fields.apply(&mut profile)?;
    Ok(profile)
}

/// Finds a business by id, by its number, or `default`.
pub async fn find(pool: &PgPool, which: &str) -> anyhow::Result<Business> {
    let all = businesses::load_all(pool).await?;
    let wanted = E164::parse(which).ok();
    all.into_iter()
        .find(|b| {
            b.profile.id.to_string() == which
                || (which == "default" && b.is_default)
                || (wanted.is_some() && b.phone_number == wanted)
        })
        .with_context(|| {
            format!("no business {which:?}: give its id, its number, or \"default\" (see `bella admin business list`)")
        })
}

/// A business as `show` prints it.
pub fn describe(business: &Business) -> String {
    let p = &business.profile;
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let statutory: Vec<String> = holidays::statutory(business.province, year)
        .into_iter()
        .map(|(date, name)| format!("{date} {}", name.english()))
        .collect();
    let languages: Vec<&str> = p.languages.iter().map(|l| l.code()).collect();
    let own: Vec<String> = business.own_holidays.iter().map(ToString::to_string).collect();
    format!(
        "id:            {}\nname:          {}\nnumber:        {}\ndefault:       {}\ntime zone:     {}\nprovince:      {}\nhours:         {}\nappointments:  {} minutes, {} at a time, {} minutes' notice\nlanguages:     {}\ntransfer to:   {}\naddress:       {}\nown closures:  {}\nstatutory {year}: {}\n",
        p.id,
        p.name,
        business.phone_number.as_ref().map_or("(none)", E164::as_str),
        if business.is_default { "yes (answers numbers no business claims)" } else { "no" },
        p.time_zone.name(),
        business.province.code(),
        p.hours,
        p.appointment_minutes,
        p.capacity,
        p.min_notice_minutes,
        languages.join(","),
        p.transfer_number.as_ref().map_or("(none)", E164::as_str),
        p.address.as_deref().unwrap_or("(none)"),
        if own.is_empty() { "(none)".to_owned() } else { own.join(", ") },
        statutory.join(", "),
    )
}

/// One line per business for `list`.
pub fn line(business: &Business) -> String {
    let p = &business.profile;
    let languages: Vec<&str> = p.languages.iter().map(|l| l.code()).collect();
    format!(
        "{}  {:<14} {:<30} {:<20} {}{}",
        p.id,
        business.phone_number.as_ref().map_or("(no number)", E164::as_str),
        p.name,
        p.time_zone.name(),
        languages.join(","),
        if business.is_default { "  (default)" } else { "" },
    )
}
