//! Twilio's request signature (`X-Twilio-Signature`), computed and checked.
//!
//! Twilio signs the full URL it requested (scheme, host, port if any, path and query string,
//! exactly as sent) followed by every POSTed form parameter: names sorted, and for each name its
//! distinct values sorted, each appended as `name` + `value`, empty values included. The MAC is
//! HMAC-SHA1 keyed with the account's auth token, base64-encoded.
//!
//! Because Twilio has signed with and without the default port at different times, a signature
//! is accepted if it matches the URL with the port or without it. The comparison is constant-time.
//! No crate does this correctly (see research/voice_anchors.md 1.6), hence our own.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use url::Url;

type HmacSha1 = Hmac<Sha1>;

fn mac(token: &[u8], url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut sorted: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    sorted.sort_unstable();
    sorted.dedup();
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha1::new_from_slice(token).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The signature Twilio would send for `url` and the form `params`.
pub fn sign(token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(token.as_bytes(), url, params).finalize().into_bytes())
}

/// Whether `signature` is valid for `url` and `params`, with or without the default port.
pub fn is_valid(token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(expected) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    url_variants(url).iter().any(|candidate| mac(token.as_bytes(), candidate, params).verify_slice(&expected).is_ok())
}

/// The URL as given, plus the same URL with its default port added or removed.
fn url_variants(raw: &str) -> Vec<String> {
    let mut variants = vec![raw.to_owned()];
    let default_port = match raw.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase()) {
        Some(scheme) if scheme == "https" => 443,
        Some(scheme) if scheme == "http" => 80,
        _ => return variants,
    };
    let Some(start) = raw.find("://").map(|i| i + 3) else {
        return variants;
    };
    let end = raw[start..].find(['/', '?', '#']).map_or(raw.len(), |e| start + e);
    let authority = &raw[start..end];
    let with_default = format!(":{default_port}");
    let other = if let Some(host) = authority.strip_suffix(&with_default) {
        host.to_owned()
    } else if Url::parse(raw).is_ok_and(|url| url.port().is_none()) {
        format!("{authority}{with_default}")
    } else {
        return variants;
    };
    variants.push(format!("{}{other}{}", &raw[..start], &raw[end..]));
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// Twilio's published example: token 12345 and these parameters.
    fn twilio_example() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ])
    }

    #[test]
    fn twilio_published_vector_with_query_string() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign("12345", url, &twilio_example()), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(is_valid("12345", url, &twilio_example(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    }

    #[test]
    fn parameter_order_does_not_matter_but_everything_else_does() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let mut reversed = twilio_example();
        reversed.reverse();
        assert!(is_valid("12345", url, &reversed, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        // Another token, another URL, a changed or extra parameter: all refused.
        assert!(!is_valid("12346", url, &twilio_example(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!is_valid(
            "12345",
            "https://mycompany.com/myapp.php?bar=2&foo=1",
            &twilio_example(),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        let mut changed = twilio_example();
        changed[2].1 = "1235".into();
        assert!(!is_valid("12345", url, &changed, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        let mut extra = twilio_example();
        extra.push(("CallToken".into(), String::new()));
        assert!(!is_valid("12345", url, &extra, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!is_valid("12345", url, &twilio_example(), "not base64!"));
        assert!(!is_valid("12345", url, &twilio_example(), ""));
    }

    #[test]
    fn empty_values_are_signed() {
        // Twilio sends empty parameters such as CallToken; dropping them breaks every real call.
        let url = "https://bella.example.com/twilio/voice";
        let with_empty = params(&[("CallSid", "CA1"), ("CallToken", "")]);
        let signature = sign("secret", url, &with_empty);
        assert!(is_valid("secret", url, &with_empty, &signature));
        assert!(!is_valid("secret", url, &params(&[("CallSid", "CA1")]), &signature));
    }

    #[test]
    fn repeated_keys_sign_each_value_sorted() {
        let url = "https://bella.example.com/twilio/voice";
        let repeated = params(&[("Tag", "b"), ("CallSid", "CA1"), ("Tag", "a")]);
        let signature = sign("secret", url, &repeated);
        // The same data in another order is the same request.
        let reordered = params(&[("Tag", "a"), ("Tag", "b"), ("CallSid", "CA1")]);
        assert!(is_valid("secret", url, &reordered, &signature));
        // Computed by hand: URL, then CallSidCA1, then Taga, then Tagb.
        let mut mac = HmacSha1::new_from_slice(b"secret").unwrap();
        mac.update(b"https://bella.example.com/twilio/voiceCallSidCA1TagaTagb");
        assert_eq!(signature, STANDARD.encode(mac.finalize().into_bytes()));
        // A value missing is another request.
        assert!(!is_valid("secret", url, &params(&[("Tag", "a"), ("CallSid", "CA1")]), &signature));
    }

    #[test]
    fn default_port_either_way() {
        let params = twilio_example();
        let with_port = sign("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &params);
        let without = sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &params);
        assert!(is_valid("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &params, &with_port));
        assert!(is_valid("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &params, &without));
        // A non-default port is part of the URL and never stripped.
        let custom = sign("12345", "http://127.0.0.1:8080/twilio/voice", &params);
        assert!(is_valid("12345", "http://127.0.0.1:8080/twilio/voice", &params, &custom));
        assert!(!is_valid("12345", "http://127.0.0.1/twilio/voice", &params, &custom));
        assert!(!is_valid("12345", "http://127.0.0.1:8081/twilio/voice", &params, &custom));
    }

    #[test]
    fn url_variants_are_exact() {
        assert_eq!(url_variants("https://a.example/x?y=1"), ["https://a.example/x?y=1", "https://a.example:443/x?y=1"]);
        assert_eq!(url_variants("https://a.example:443/x"), ["https://a.example:443/x", "https://a.example/x"]);
        assert_eq!(url_variants("http://a.example:8080/x"), ["http://a.example:8080/x"]);
        assert_eq!(url_variants("http://a.example"), ["http://a.example", "http://a.example:80"]);
    }
}
