//! Hostile values: control characters in every vendor's free text, duplicates,
//! unusable secrets, and type, key, range and length errors.

use std::path::Path;

use super::Corpus;

const SECRETS: [&str; 7] = [
    "ARUBA_TOKEN",
    "EXTREME_PASSWORD",
    "RUCKUS_CLIENT_ID",
    "RUCKUS_CLIENT_SECRET",
    "AUDIOCODES_CLIENT_ID",
    "AUDIOCODES_CLIENT_SECRET",
    "RETAILCO_CARRIER_PASSWORD",
];

/// `(file, quoted value)` of a free-text field of each vendor.
const TEXT_FIELDS: [(&str, &str); 8] = [
    ("coffee-shop.toml", "\"Coffee Shop\""),
    ("coffee-shop.toml", "\"Located at 15th and T Street\""),
    ("acme-retail.toml", "\"Flagship Store\""),
    ("harbor-logistics.toml", "\"Harbor Logistics\""),
    ("lakeside-dental.toml", "\"Linda Lake\""),
    ("bayview-resort.toml", "\"Bayview Resort\""),
    ("retail-voice.toml", "\"RetailCo-Voice\""),
    ("partners.toml", "\"Westgate IT\""),
];

/// Control characters, as TOML escapes, with how the error names them.
const CONTROLS: [(&str, &str); 7] = [
    ("\\n", "U+000A (line feed)"),
    ("\\u001b[2J", "U+001B (escape)"),
    ("\\u0007", "U+0007 (bell)"),
    ("\\u0000", "U+0000 (NUL)"),
    ("\\u007f", "U+007F (delete)"),
    ("\\u009b", "U+009B"),
    ("\\u202e", "U+202E (bidirectional text control)"),
];

/// The file of the mixed example that holds `secret`, and the reference to it.
fn secret_reference(dir: &Path, conf: &Path, secret: &str) -> (String, String) {
    let reference = format!(
        "{{ file = \"{}\" }}",
        dir.join("secrets").join(secret).display()
    );
    for entry in std::fs::read_dir(conf).unwrap() {
        let path = entry.unwrap().path();
        if std::fs::read_to_string(&path).unwrap().contains(&reference) {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            return (file, reference);
        }
    }
    panic!("no reference to {secret}")
}

pub(super) fn add(c: &mut Corpus<'_>) {
    // --- Control characters in every vendor's free text (item 9).
    for (file, value) in TEXT_FIELDS {
        for (escape, described) in CONTROLS {
            let bad = format!("{}{escape}\"", &value[..value.len() - 1]);
            c.replace(
                format!("{escape} in {file} {value}"),
                file,
                ("", value),
                &bad,
                &format!("contains the control character {described}"),
            );
        }
    }

    // --- Duplicates.
    let (_, conf) = c.copy();
    let voice = std::fs::read_to_string(conf.join("retail-voice.toml")).unwrap();
    let twin = conf.join("retail-voice-twin.toml");
    std::fs::write(
        &twin,
        voice
            .replace("[customers.retail-voice]", "[customers.retail-voice-twin]")
            .replace("\"RetailCo-Voice\"", "\"RetailCo-Twin\"")
            .replace("\"RetailVoice\"", "\"RETAILVOICE\""),
    )
    .unwrap();
    c.add(
        "case-only short names",
        conf.clone(),
        vec![
            format!("{}:5:14: ", conf.join("retail-voice.toml").display()),
            "differs only in case from `RETAILVOICE`".into(),
        ],
    );
    // (The later definition in load order is the one reported.)
    c.replace(
        "a customer name used twice",
        "lakeside-dental.toml",
        ("name = ", "\"Lakeside Dental\""),
        "\"Harbor Logistics\"",
        "customer name `Harbor Logistics` is already used on provider `extreme`",
    );
    c.replace(
        "a device serial differing only in case",
        "coffee-shop.toml",
        ("[devices.", "AP0000006]"),
        "ap0000010]",
        "differs only in case from `AP0000010`",
    );
    c.replace(
        "a MAC address used twice",
        "coffee-shop.toml",
        ("mac = ", "\"20:4C:03:00:00:06\""),
        "\"20:4c:03:00:00:0a\"",
        "MAC address 20:4C:03:00:00:0A is also used by device `AP0000010`",
    );

    // --- Secrets (item 8): each one missing, then all of them.
    for secret in SECRETS {
        let name = format!("{secret} unset");
        let (dir, conf) = c.copy();
        let (file, reference) = secret_reference(&dir, &conf, secret);
        let path = conf.join(&file);
        let text = std::fs::read_to_string(&path).unwrap();
        let at = text.find(&reference).unwrap();
        let before = &text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
            .chars()
            .count()
            + 1;
        let to = format!("{{ env = \"MSPFORM_HOSTILE_UNSET_{secret}\" }}");
        std::fs::write(&path, text.replace(&reference, &to)).unwrap();
        c.add(
            name,
            conf,
            vec![
                format!("{}:{line}:{column}: ", path.display()),
                format!("environment variable MSPFORM_HOSTILE_UNSET_{secret} is not set"),
            ],
        );
    }
    let (dir, conf) = c.copy();
    for secret in SECRETS {
        let (file, reference) = secret_reference(&dir, &conf, secret);
        let path = conf.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let to = format!("{{ env = \"MSPFORM_HOSTILE_UNSET_{secret}\" }}");
        std::fs::write(&path, text.replace(&reference, &to)).unwrap();
    }
    c.add(
        "every secret unset",
        conf,
        vec!["7 errors in the configuration".into()],
    );
    for (what, content) in [
        ("empty", "".to_string()),
        ("blank", " \n\t\n".to_string()),
        ("too long", "p".repeat(51)),
        ("wide characters", "pässwörd".to_string()),
    ] {
        let name = format!("carrier password {what}");
        let (dir, conf) = c.copy();
        std::fs::write(dir.join("secrets/RETAILCO_CARRIER_PASSWORD"), content).unwrap();
        let place = format!("{}:10:", conf.join("retail-voice.toml").display());
        c.add(name, conf, vec![place]);
    }
    for (what, target) in [
        ("a directory", "."),
        ("a device", "/dev/zero"),
        ("missing", "no-such-file"),
    ] {
        let name = format!("secret file {what}");
        let (dir, conf) = c.copy();
        let (file, reference) = secret_reference(&dir, &conf, "ARUBA_TOKEN");
        let path = conf.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replace(&reference, &format!("{{ file = \"{target}\" }}")),
        )
        .unwrap();
        c.add(
            name,
            conf,
            vec![format!("{}:11:", path.display()), "secret file".into()],
        );
    }
    let (dir, conf) = c.copy();
    let (file, reference) = secret_reference(&dir, &conf, "EXTREME_PASSWORD");
    let path = conf.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(&reference, "\"hunter2-inline\"")).unwrap();
    c.add(
        "an inline secret",
        conf,
        vec![
            format!("{}:24:", path.display()),
            "secrets must be given by reference".into(),
        ],
    );

    // --- Schema: types, keys, ranges, lengths (items 9 and 10).
    for (name, file, from, to, message) in [
        (
            "unknown provider type",
            "providers.toml",
            ("type = ", "\"extremecloud\""),
            "\"extreme-cloud\"",
            "unknown provider type `extreme-cloud`",
        ),
        (
            "provider type not a string",
            "providers.toml",
            ("type = ", "\"ruckus-one\""),
            "5",
            "expected a string, found an integer",
        ),
        (
            "misspelt type key",
            "providers.toml",
            ("", "type = \"audiocodes-live\""),
            "typ = \"audiocodes-live\"",
            "unknown key `typ`",
        ),
        (
            "customer provider undefined",
            "bayview-resort.toml",
            ("provider = ", "\"ruckus\""),
            "\"rukus\"",
            "provider `rukus` is not defined",
        ),
        (
            "customer provider not a string",
            "metro-library.toml",
            ("provider = ", "\"ruckus\""),
            "[\"ruckus\"]",
            "expected a string, found an array",
        ),
        (
            "misspelt required key",
            "coffee-shop.toml",
            ("", "name = \"Coffee Shop\""),
            "nmae = \"Coffee Shop\"",
            "unknown key `nmae`",
        ),
        (
            "base_url not a URL",
            "providers.toml",
            ("base_url = ", "\"http://127.0.0.1"),
            "\"ftp://127.0.0.1",
            "is not an http:// or https:// URL",
        ),
        (
            "poll interval out of range",
            "providers.toml",
            ("poll_interval_ms = ", "20"),
            "-20",
            "must be between 0 and 600000",
        ),
        (
            "negative script id",
            "retail-voice.toml",
            ("sbc_id = ", "7"),
            "-7",
            "must be between 0 and",
        ),
        (
            "float for an integer",
            "retail-voice.toml",
            ("sbc_id = ", "7"),
            "7.5",
            "expected an integer, found a float",
        ),
        (
            "huge integer",
            "retail-voice.toml",
            ("sbc_id = ", "7"),
            "9223372036854775807",
            "must be between 0 and",
        ),
        (
            "Aruba name over 128",
            "coffee-shop.toml",
            ("name = ", "\"Coffee Shop\""),
            &format!("\"{}\"", "C".repeat(129)),
            "the limit is 128",
        ),
        (
            "ExtremeCloud name over 64",
            "harbor-logistics.toml",
            ("name = ", "\"Harbor Logistics\""),
            &format!("\"{}\"", "H".repeat(65)),
            "at most 64",
        ),
        (
            "ExtremeCloud contact name over 128",
            "lakeside-dental.toml",
            ("name = ", "\"Linda Lake\""),
            &format!("\"{}\"", "L".repeat(129)),
            "at most 128",
        ),
        (
            "ExtremeCloud contact name with &",
            "lakeside-dental.toml",
            ("name = ", "\"Linda Lake\""),
            "\"Linda & Lake\"",
            "refuses `;`, `:` and `&`",
        ),
        (
            "RUCKUS name over 255",
            "bayview-resort.toml",
            ("name = ", "\"Bayview Resort\""),
            &format!("\"{}\"", "B".repeat(256)),
            "at most 255",
        ),
        (
            "RUCKUS phone over 255",
            "bayview-resort.toml",
            ("phone = ", "\"+1 831 555 0100\""),
            &format!("\"{}\"", "1".repeat(256)),
            "at most 255",
        ),
        (
            "AudioCodes short name of 2",
            "retail-voice.toml",
            ("short_name = ", "\"RetailVoice\""),
            "\"RV\"",
            "short_name is 2 characters long",
        ),
        (
            "AudioCodes short name of 16",
            "retail-voice.toml",
            ("short_name = ", "\"RetailVoice\""),
            "\"RetailVoiceCorp1\"",
            "short_name is 16 characters long",
        ),
        (
            "AudioCodes short name with a dot",
            "retail-voice.toml",
            ("short_name = ", "\"RetailVoice\""),
            "\"Retail.Voice\"",
            "short_name contains '.'",
        ),
        (
            "AudioCodes full name over 200",
            "retail-voice.toml",
            ("name = ", "\"RetailCo-Voice\""),
            &format!("\"{}\"", "R".repeat(201)),
            "at most 200",
        ),
        (
            "AudioCodes carrier user over 60",
            "retail-voice.toml",
            ("CarrierUserName = ", "\"retailco\""),
            &format!("\"{}\"", "u".repeat(61)),
            "the limit is 60",
        ),
        (
            "empty name",
            "metro-library.toml",
            ("name = ", "\"Metro Library\""),
            "\"  \"",
            "must not be empty",
        ),
        (
            "bad MAC",
            "acme-retail.toml",
            ("mac = ", "\"20:4C:03:00:00:0A\""),
            "\"20:4C:03:00:00:0G\"",
            "is not a MAC address",
        ),
        (
            "bad country",
            "coffee-shop.toml",
            ("country = ", "\"US\""),
            "\"USA\"",
            "is not an ISO 3166-1 alpha-2 country code",
        ),
        (
            "bad time zone",
            "harbor-logistics.toml",
            ("time_zone = ", "\"Europe/Amsterdam\""),
            "\"Mars/Olympus\"",
            "is not an IANA time zone name",
        ),
        (
            "bad date",
            "bayview-resort.toml",
            ("service_end = ", "\"2028-12-31\""),
            "\"2028-02-30\"",
            "not a valid calendar date",
        ),
        (
            "service ends before it starts",
            "bayview-resort.toml",
            ("service_end = ", "\"2028-12-31\""),
            "\"2025-12-31\"",
            "before it starts",
        ),
        (
            "unknown partner customer",
            "partners.toml",
            ("customers = [", "\"harbor-logistics\""),
            "\"harbour-logistics\"",
            "customer `harbour-logistics` is not defined",
        ),
        (
            "unknown site",
            "acme-retail.toml",
            ("site = ", "\"warehouse\""),
            "\"wharehouse\"",
            "has no site `wharehouse`",
        ),
        (
            "unknown licence",
            "acme-retail.toml",
            ("licenses = [", "\"FOUNDATION_SWITCH_6200\""),
            "\"FOUNDATION_SWITCH_620\"",
            "unknown licence service",
        ),
        (
            "invalid provider key",
            "providers.toml",
            ("[providers.", "voice]"),
            "Voice]",
            "invalid provider key `Voice`",
        ),
    ] {
        c.replace(name, file, from, to, message);
    }
}
