//! Reading the console's forms: `application/x-www-form-urlencoded`, where a name may repeat
//! (a ticked checkbox per dead letter).

use std::collections::BTreeMap;

use operations::AdminError;

/// The fields of a submitted form, in order.
#[derive(Debug, Default, Clone)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The first value of `name`, trimmed, when it is not empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str()).collect()
    }

    /// A ticked checkbox.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| !v.is_empty() && v != "off")
    }

    /// A whole number, naming the field when it is not one.
    pub fn number<T: std::str::FromStr>(&self, name: &str, label: &str) -> Result<Option<T>, AdminError> {
        match self.text(name) {
            None => Ok(None),
            Some(raw) => raw
                .parse()
                .map(Some)
                .map_err(|_| AdminError::Invalid(format!("{label}: {raw:?} is not a whole number"))),
        }
    }

    /// The form without the fields left as they were shown: a field `x` sent with an `orig.x` of
    /// the same value is dropped, so that saving a form changes only what was edited there, and
    /// not what someone else changed meanwhile.
    pub fn edited(&self) -> Self {
        let unchanged =
            |key: &str, value: &str| self.get(&format!("orig.{key}")).is_some_and(|o| o.trim() == value.trim());
        Self(
            self.0.iter().filter(|(key, value)| !key.starts_with("orig.") && !unchanged(key, value)).cloned().collect(),
        )
    }

    /// The fields whose names start with `prefix`, without it: `set.name=Marie` gives `name`.
    pub fn prefixed(&self, prefix: &str) -> BTreeMap<String, String> {
        self.0.iter().filter_map(|(key, value)| Some((key.strip_prefix(prefix)?.to_owned(), value.clone()))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_and_prefixes_are_kept() {
        let form = FormData::parse(b"id=a&id=b&reason=+deploy+&set.name=Marie%20Tremblay&dry_run=on&n=x");
        assert_eq!(form.all("id"), ["a", "b"]);
        assert_eq!(form.text("reason").as_deref(), Some("deploy"));
        assert!(form.checked("dry_run"));
        assert!(!form.checked("confirm"));
        assert_eq!(form.prefixed("set.").get("name").map(String::as_str), Some("Marie Tremblay"));
        assert!(form.number::<u32>("n", "minutes").unwrap_err().to_string().contains("minutes"));
        let edit = FormData::parse(b"name=Salon&orig.name=Salon&hours=mon+9-17&orig.hours=tue+9-17&csrf=x");
        let edited = edit.edited();
        assert_eq!((edited.get("name"), edited.get("hours"), edited.get("csrf")), (None, Some("mon 9-17"), Some("x")));
    }
}
