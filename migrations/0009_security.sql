-- Security hardening (issue 14).

-- A token's name is its holder in the audit log: two tokens may not share one (case
-- insensitively), and `admin-token`, the name ADMIN_TOKEN acts under, is reserved. Names that
-- collide today are renamed with the end of their id, the first created keeping its name.
update admin_tokens t
   set name = left(t.name, 90) || '-' || right(replace(t.admin_token_id::text, '-', ''), 8)
 where lower(t.name) in ('admin-token', 'admin_token')
    or exists (
        select 1 from admin_tokens o
         where lower(o.name) = lower(t.name)
           and (o.created_at, o.admin_token_id) < (t.created_at, t.admin_token_id));
create unique index admin_tokens_name_unique on admin_tokens (lower(name));
