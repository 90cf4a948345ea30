//! ISO 3166-1 alpha-2 country codes: validation, normalisation and suggestions.

#[path = "country_table.rs"]
mod table;

use table::COUNTRIES;

/// The upper-case alpha-2 code for `input` (any case), or a help text suggesting
/// the code when `input` looks like an alpha-3 code or a country name.
pub(crate) fn normalize_country(input: &str) -> Result<&'static str, String> {
    let upper = input.trim().to_ascii_uppercase();
    if input.len() == 2
        && let Some(row) = COUNTRIES.iter().find(|row| row.0 == upper)
    {
        return Ok(row.0);
    }
    let generic =
        "use an ISO 3166-1 alpha-2 country code such as \"US\", \"GB\" or \"DE\"".to_string();
    let found = if upper == "UK" {
        COUNTRIES.iter().find(|row| row.0 == "GB")
    } else {
        let lower = input.trim().to_lowercase();
        COUNTRIES.iter().find(|row| {
            row.1 == upper
                || row.2.to_lowercase() == lower
                || row.3.is_some_and(|c| c.to_lowercase() == lower)
        })
    };
    if let Some(row) = found {
        return Err(format!(
            "use the ISO 3166-1 alpha-2 code of {}: country = \"{}\"",
            row.3.unwrap_or(row.2),
            row.0
        ));
    }
    let names = COUNTRIES
        .iter()
        .flat_map(|row| std::iter::once(row.2).chain(row.3));
    if input.chars().count() > 3
        && let Some(name) = super::text::closest(input.trim(), names)
        && let Some(row) = COUNTRIES
            .iter()
            .find(|row| row.2 == name || row.3 == Some(name))
    {
        return Err(format!(
            "did you mean {name}? use its ISO 3166-1 alpha-2 code: country = \"{}\"",
            row.0
        ));
    }
    Err(generic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_every_official_code_once() {
        assert_eq!(COUNTRIES.len(), 249);
        let mut codes: Vec<&str> = COUNTRIES.iter().map(|row| row.0).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 249);
        assert!(codes.iter().all(|c| c.len() == 2));
    }

    #[test]
    fn codes_are_normalised_to_upper_case() {
        assert_eq!(normalize_country("US"), Ok("US"));
        assert_eq!(normalize_country("us"), Ok("US"));
        assert_eq!(normalize_country("De"), Ok("DE"));
        assert_eq!(normalize_country("AX"), Ok("AX"));
    }

    #[test]
    fn names_and_alpha3_suggest_the_code() {
        let us =
            Err("use the ISO 3166-1 alpha-2 code of United States: country = \"US\"".to_string());
        assert_eq!(normalize_country("USA"), us);
        assert_eq!(normalize_country("usa"), us);
        assert_eq!(normalize_country("United States"), us);
        assert_eq!(normalize_country("united states"), us);
        assert!(normalize_country("UK").unwrap_err().contains("\"GB\""));
        assert!(
            normalize_country("South Korea")
                .unwrap_err()
                .contains("\"KR\"")
        );
        assert!(normalize_country("Germny").unwrap_err().contains("\"DE\""));
    }

    #[test]
    fn unknown_codes_get_generic_help() {
        for bad in ["XX", "", "U", "ZZZ", "Atlantis-on-Sea"] {
            let help = normalize_country(bad).unwrap_err();
            assert!(help.contains("ISO 3166-1 alpha-2"), "{bad}: {help}");
        }
    }
}
