-- The business profile grows: a province (for its statutory holidays) and an address to read out.

-- Two-letter code; the province's statutory holidays are closed days, on top of `holidays`.
alter table businesses add column province text not null default 'ON'
    check (province in ('AB', 'BC', 'MB', 'NB', 'NL', 'NS', 'NT', 'NU', 'ON', 'PE', 'QC', 'SK', 'YT'));

-- As Bella should say it ("123 Queen Street West, Toronto").
alter table businesses add column address text check (length(address) <= 300);

-- Finding a caller's upcoming appointments by their number.
create index appointments_business_phone on appointments (business_id, phone, starts_at) where status = 'booked';
