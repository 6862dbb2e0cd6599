-- The seeded default business speaks English and French (English first): a newcomer's first
-- French call to a fresh install was answered "May I have your name, please?" (issue 15). A
-- default business still as seeded (its name and English only) is brought in line; one an
-- operator has edited keeps its languages.
update businesses
   set languages = '{en,fr}'
 where is_default
   and name = 'Bella Demo Clinic'
   and languages = '{en}';
