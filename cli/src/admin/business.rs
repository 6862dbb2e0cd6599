//! `bella admin business list|show|create|edit|calendar-feed`: the business profile, and the
//! calendar feed its people subscribe to.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use adapters::postgres::businesses::{self, Business};
use anyhow::Context as _;
use chrono::NaiveDate;
use operations::Actor;
use operations::businesses::Changes;
use sqlx::PgPool;
use workflows::holidays::{self, Province};
use workflows::{E164, Language};

/// `bella admin business …`
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the businesses.
    List,
    /// Show one business: an id, its number, or `default`.
    Show { business: String },
    /// Create a business (unset fields take the defaults: Mon-Fri 09:00-17:00, America/Toronto,
    /// ON, 30 minutes, one resource, English).
    Create {
        #[command(flatten)]
        fields: Fields,
        /// Why, for the audit log.
        #[arg(long, default_value = "new business")]
        reason: String,
    },
    /// Change some fields of a business: an id, its number, or `default`.
    Edit {
        business: String,
        #[command(flatten)]
        fields: Fields,
        /// Why, for the audit log.
        #[arg(long, default_value = "profile edited")]
        reason: String,
    },
    /// Make a calendar feed URL for a business (any calendar app can subscribe to it): a new URL
    /// replaces the previous one; --revoke stops the feed.
    CalendarFeed {
        business: String,
        /// Stop the feed instead: subscribed calendars get 404 from now on.
        #[arg(long)]
        revoke: bool,
        /// Why, for the audit log.
        #[arg(long, default_value = "calendar feed")]
        reason: String,
    },
}

/// Runs `bella admin business …` as the command line's operator.
pub async fn run(pool: &PgPool, command: Command) -> anyhow::Result<()> {
    match command {
        Command::List => {
            for business in businesses::load_all(pool).await? {
                println!("{}", line(&business));
            }
        }
        Command::Show { business } => {
            print!("{}", describe(&find(pool, &business).await?));
        }
        Command::Create { fields, reason } => {
            let changes = fields.changes(&[]);
            if changes.name.is_none() {
                anyhow::bail!("--name is required to create a business");
            }
            let saved = operations::businesses::create(pool, &Actor::cli(), &changes, &reason).await?;
            println!("created business {} (audit #{})", saved.id, saved.outcome.audit_id);
            print!("{}", describe(&find(pool, &saved.id.to_string()).await?));
        }
        Command::Edit { business, fields, reason } => {
            let current = find(pool, &business).await?;
            let changes = fields.changes(&current.own_holidays);
            let id = current.profile.id.to_string();
            let saved = operations::businesses::edit(pool, &Actor::cli(), &id, &changes, &reason).await?;
            if saved.outcome.affected == 0 {
                println!("business {id}: {} (audit #{})", saved.outcome.message, saved.outcome.audit_id);
            } else {
                println!(
                    "updated business {id} (audit #{}; running servers answer with it from the next turn)",
                    saved.outcome.audit_id
                );
            }
            print!("{}", describe(&find(pool, &id).await?));
        }
        Command::CalendarFeed { business, revoke, reason } => {
            let id = find(pool, &business).await?.profile.id;
            let actor = Actor::cli();
            if revoke {
                let audit = operations::calendar_feed::revoke(pool, &actor, id, &reason).await?;
                println!("calendar feed of business {id} revoked (audit #{audit})");
            } else {
                let issued = operations::calendar_feed::issue(pool, &actor, id, &reason).await?;
                let base = std::env::var("PUBLIC_URL").unwrap_or_default();
                println!(
                    "calendar feed of business {id} (audit #{}; any previous URL stops working):",
                    issued.audit_id
                );
                println!("{}{}", base.trim_end_matches('/'), issued.path);
                if base.is_empty() {
                    println!("(put the public URL of Bella's api in front: PUBLIC_URL is not set)");
                }
            }
        }
    }
    Ok(())
}

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

impl Fields {
    /// The changes these flags ask for. `current` is the business's own closed days when editing:
    /// `--holiday` adds to them unless `--clear-holidays` is given.
    pub fn changes(&self, current: &[NaiveDate]) -> Changes {
        let holidays = if self.clear_holidays || !self.holidays.is_empty() {
            let kept = if self.clear_holidays { &[][..] } else { current };
            Some(kept.iter().chain(&self.holidays).copied().collect())
        } else {
            None
        };
        Changes {
            name: self.name.clone(),
            phone_number: self.number.clone(),
            time_zone: self.time_zone.map(|z| z.name().to_owned()),
            province: self.province.map(|p| p.code().to_owned()),
            hours: self.hours.clone(),
            appointment_minutes: self.appointment_minutes,
            resources: self.resources,
            min_notice_minutes: self.min_notice,
            languages: self.languages.as_ref().map(|l| l.iter().map(|l| l.code()).collect::<Vec<_>>().join(",")),
            transfer_number: if self.no_transfer { Some(String::new()) } else { self.transfer.clone() },
            address: self.address.clone(),
            own_holidays: holidays,
            is_default: self.default.then_some(true),
        }
    }
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
