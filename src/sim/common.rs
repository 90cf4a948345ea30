//! Small vendor-neutral helpers the simulated clouds share: a deterministic id mixer,
//! ISO 3166-1 alpha-2 codes, timestamps of the simulated clock, OAuth error bodies,
//! form bodies, and merging a partial JSON object into a switches struct.
//! Pure: no state.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// SplitMix64: deterministic ids from a sequence number.
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// ISO 3166-1 alpha-2 codes.
const COUNTRY_CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI \
BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE \
DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS \
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW \
KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW \
MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO \
RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM \
TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Is this exactly an assigned ISO 3166-1 alpha-2 code (upper case)?
pub(crate) fn is_iso_alpha2(code: &str) -> bool {
    code.len() == 2 && COUNTRY_CODES.split_whitespace().any(|c| c == code)
}

/// `current` with the members of a partial JSON object replaced (`POST /_sim/<vendor>/switches`);
/// an unknown member or a value of the wrong type is an error message.
pub(crate) fn merge_switches<T: Serialize + DeserializeOwned>(
    current: &T,
    patch: &[u8],
    vendor: &str,
) -> Result<T, String> {
    let patch = match serde_json::from_slice::<Value>(patch) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err("switches must be a JSON object".into()),
        Err(e) => return Err(format!("invalid JSON: {e}")),
    };
    let mut merged = match serde_json::to_value(current) {
        Ok(Value::Object(m)) => m,
        _ => return Err("switches cannot be serialized".into()),
    };
    for (k, v) in patch {
        if !merged.contains_key(&k) {
            return Err(format!("unknown {vendor} switch {k:?}"));
        }
        merged.insert(k, v);
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| format!("invalid switch value: {e}"))
}

/// `YYYY-MM-DDTHH:MM:SS` (UTC, no zone) of a simulated-clock reading in ms since
/// the epoch; each vendor adds its own fraction and zone.
pub(crate) fn iso_seconds(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = crate::clock::civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// An RFC 6749 §5.2 error answer: `{"error", "error_description"}`.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// Whether a request says its body is `application/x-www-form-urlencoded`.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// A JSON value as the text a portal field shows (a string without its quotes).
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
