-- A name Bella could not understand, even spelled, is booked as heard and marked for a person to
-- check (issue 15: a caller answering is never hung up on at the name prompt). Such a name is
-- not offered back to the caller on a later call.
alter table appointments add column name_to_check boolean not null default false;
