-- A business's calendar feed (GET /calendar/{business}.ics?token=…): the SHA-256 of its token,
-- null when the business has no feed. Issuing a new token replaces the old one; revoking clears it.
alter table businesses add column calendar_feed_sha256 text;

-- How many times an appointment changed after it was booked (moved, cancelled): the feed's
-- SEQUENCE, so that subscribed calendars take the newer version of an event.
alter table appointments add column sequence integer not null default 0;
