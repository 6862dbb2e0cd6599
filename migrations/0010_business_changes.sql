-- Every api caches the businesses in memory. A change to the table is announced on the channel
-- `bella_businesses` (once per statement, after it commits: NOTIFY is transactional), so that each
-- api reloads at once instead of answering a new number with the default business until its
-- cache ages out.
create function bella_businesses_changed() returns trigger language plpgsql as $$
begin
    perform pg_notify('bella_businesses', tg_op);
    return null;
end;
$$;

create trigger businesses_changed
    after insert or update or delete or truncate on businesses
    for each statement execute function bella_businesses_changed();
