//! The word lists the rules consult: months, currencies and their scales, units, the words around years and counts, regnal names, top-level domains.

use crate::abbreviation;

/// Month names; their short forms are in [`crate::abbreviation`].
#[rustfmt::skip]
pub(super) const MONTHS: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
];

/// The full month name for a written month, and whether it was abbreviated.
pub(super) fn month(word: &str) -> Option<(&'static str, bool)> {
    if let Some(full) = MONTHS.iter().find(|full| **full == word) {
        return Some((full, false));
    }
    abbreviation::month_name(word).map(|full| (full, true))
}

pub(super) struct Currency {
    pub(super) one: &'static str,
    pub(super) many: &'static str,
    pub(super) minor: Option<(&'static str, &'static str)>,
}

impl Currency {
    const fn new(
        one: &'static str,
        many: &'static str,
        minor: Option<(&'static str, &'static str)>,
    ) -> Currency {
        Currency { one, many, minor }
    }

    /// A currency whose hundredth is a cent.
    const fn in_cents(one: &'static str, many: &'static str) -> Currency {
        Currency::new(one, many, Some(("cent", "cents")))
    }
}

const US_DOLLAR: Currency = Currency::in_cents("U S dollar", "U S dollars");
const CANADIAN_DOLLAR: Currency = Currency::in_cents("Canadian dollar", "Canadian dollars");
const AUSTRALIAN_DOLLAR: Currency = Currency::in_cents("Australian dollar", "Australian dollars");
const NEW_ZEALAND_DOLLAR: Currency =
    Currency::in_cents("New Zealand dollar", "New Zealand dollars");
const HONG_KONG_DOLLAR: Currency = Currency::in_cents("Hong Kong dollar", "Hong Kong dollars");

/// Currency signs, longest first.
#[rustfmt::skip]
const CURRENCIES: [(&str, Currency); 11] = [
    ("US$", US_DOLLAR),
    ("CA$", CANADIAN_DOLLAR),
    ("AU$", AUSTRALIAN_DOLLAR),
    ("NZ$", NEW_ZEALAND_DOLLAR),
    ("HK$", HONG_KONG_DOLLAR),
    ("C$", CANADIAN_DOLLAR),
    ("A$", AUSTRALIAN_DOLLAR),
    ("$", Currency::in_cents("dollar", "dollars")),
    ("€", Currency::in_cents("euro", "euros")),
    ("£", Currency::new("pound", "pounds", Some(("penny", "pence")))),
    ("¥", Currency::new("yen", "yen", None)),
];

pub(super) fn currency_prefix(s: &str) -> Option<(usize, &'static Currency)> {
    CURRENCIES
        .iter()
        .find(|(sign, _)| s.starts_with(sign))
        .map(|(sign, c)| (sign.len(), c))
}

/// Scales glued to an amount of money ("$3bn", "£5m"), longest first.
pub(super) const MONEY_SCALES: [(&str, &str); 11] = [
    ("trn", "trillion"),
    ("bn", "billion"),
    ("tn", "trillion"),
    ("mn", "million"),
    ("m", "million"),
    ("M", "million"),
    ("b", "billion"),
    ("B", "billion"),
    ("k", "thousand"),
    ("K", "thousand"),
    ("T", "trillion"),
];
/// Scales glued to a plain number ("3bn people").
pub(super) const PLAIN_SCALES: [(&str, &str); 2] = [("bn", "billion"), ("tn", "trillion")];
pub(super) const SCALE_WORDS: [&str; 4] = ["thousand", "million", "billion", "trillion"];

pub(super) struct Unit {
    pub(super) abbr: &'static str,
    pub(super) one: &'static str,
    pub(super) many: &'static str,
    /// Written with an abbreviation period ("ft."), which is swallowed.
    pub(super) period: bool,
}

const fn unit(abbr: &'static str, one: &'static str, many: &'static str, period: bool) -> Unit {
    Unit {
        abbr,
        one,
        many,
        period,
    }
}

const UNITS: [Unit; 37] = [
    unit("km/h", "kilometer per hour", "kilometers per hour", false),
    unit("m/s", "meter per second", "meters per second", false),
    unit("kph", "kilometer per hour", "kilometers per hour", false),
    unit("mph", "mile per hour", "miles per hour", false),
    unit("km", "kilometer", "kilometers", false),
    unit("cm", "centimeter", "centimeters", false),
    unit("mm", "millimeter", "millimeters", false),
    unit("m", "meter", "meters", false),
    unit("kg", "kilogram", "kilograms", false),
    unit("mg", "milligram", "milligrams", false),
    unit("g", "gram", "grams", false),
    unit("lbs", "pound", "pounds", true),
    unit("lb", "pound", "pounds", true),
    unit("oz", "ounce", "ounces", true),
    unit("mi", "mile", "miles", true),
    unit("ft", "foot", "feet", true),
    unit("yd", "yard", "yards", true),
    unit("ml", "milliliter", "milliliters", false),
    unit("mL", "milliliter", "milliliters", false),
    unit("TB", "terabyte", "terabytes", false),
    unit("GB", "gigabyte", "gigabytes", false),
    unit("MB", "megabyte", "megabytes", false),
    unit("KB", "kilobyte", "kilobytes", false),
    unit("kB", "kilobyte", "kilobytes", false),
    unit("kWh", "kilowatt-hour", "kilowatt-hours", false),
    unit("kW", "kilowatt", "kilowatts", false),
    unit("MW", "megawatt", "megawatts", false),
    unit("GW", "gigawatt", "gigawatts", false),
    unit("GHz", "gigahertz", "gigahertz", false),
    unit("MHz", "megahertz", "megahertz", false),
    unit("Hz", "hertz", "hertz", false),
    unit("ms", "millisecond", "milliseconds", false),
    unit("hrs", "hour", "hours", true),
    unit("hr", "hour", "hours", true),
    unit("mins", "minute", "minutes", true),
    unit("min", "minute", "minutes", true),
    unit("sec", "second", "seconds", true),
];

pub(super) const INCH: Unit = unit("in", "inch", "inches", true);

pub(super) fn unit_exact(s: &str) -> Option<&'static Unit> {
    UNITS.iter().find(|u| u.abbr == s)
}

/// Time-of-day markers and how they are said.
pub(super) fn am_pm(s: &str) -> Option<(&'static str, bool)> {
    match s {
        "a.m" | "A.M" => Some(("a m", true)),
        "p.m" | "P.M" => Some(("p m", true)),
        "am" | "AM" => Some(("a m", false)),
        "pm" | "PM" => Some(("p m", false)),
        _ => None,
    }
}

/// Words before a 4-digit number that make it a year even outside 1900-2099.
pub(super) const YEAR_BEFORE: [&str; 24] = [
    "in", "since", "by", "from", "until", "till", "of", "year", "circa", "c.", "around", "before",
    "after", "during", "early", "late", "mid", "spring", "summer", "autumn", "fall", "winter",
    "between", "and",
];
/// Words after a 4-digit number that make it a count, not a year.
pub(super) const COUNT_AFTER: [&str; 30] = [
    "people",
    "residents",
    "workers",
    "employees",
    "jobs",
    "students",
    "children",
    "homes",
    "houses",
    "cases",
    "deaths",
    "votes",
    "troops",
    "members",
    "patients",
    "copies",
    "cars",
    "vehicles",
    "miles",
    "feet",
    "meters",
    "acres",
    "pages",
    "points",
    "times",
    "dollars",
    "euros",
    "pounds",
    "tons",
    "units",
];
/// Words before a number that make it a plain number, never a year.
pub(super) const NUMBER_BEFORE: [&str; 4] = ["page", "pages", "number", "#"];

/// Names after which even "I" is a regnal number.
pub(super) const REGNAL_NAMES: [&str; 34] = [
    "Elizabeth",
    "Charles",
    "James",
    "George",
    "Henry",
    "Edward",
    "William",
    "Mary",
    "Richard",
    "John",
    "Louis",
    "Peter",
    "Catherine",
    "Napoleon",
    "Alexander",
    "Nicholas",
    "Frederick",
    "Philip",
    "Leopold",
    "Wilhelm",
    "Francis",
    "Ferdinand",
    "Isabella",
    "Ivan",
    "Paul",
    "Benedict",
    "Gregory",
    "Innocent",
    "Leo",
    "Pius",
    "Clement",
    "Juan",
    "Carlos",
    "Harald",
];
/// Capitalised words that are not names, before which a Roman numeral is no regnal number.
pub(super) const NOT_NAMES: [&str; 30] = [
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "For",
    "Of",
    "And",
    "But",
    "Or",
    "To",
    "With",
    "By",
    "From",
    "As",
    "If",
    "When",
    "Then",
    "So",
    "This",
    "That",
    "It",
    "He",
    "She",
    "We",
    "They",
    "Yesterday",
    "Today",
    "Size",
];

/// Top-level domains that make a bare `word.tld` a web address.
pub(super) const TLDS: [&str; 40] = [
    "com", "org", "net", "edu", "gov", "mil", "int", "io", "co", "uk", "us", "ca", "au", "de",
    "fr", "es", "it", "nl", "eu", "info", "biz", "app", "dev", "ai", "tv", "me", "news", "ly",
    "jp", "cn", "ru", "br", "ch", "se", "no", "nz", "ie", "in", "org.uk", "gg",
];

/// Words after which "a $5 million ..." is not an adjective ("a five million dollar fine").
pub(super) const NOT_NOUN: [&str; 36] = [
    "of", "in", "to", "for", "from", "per", "on", "at", "by", "with", "and", "or", "than", "each",
    "a", "an", "the", "is", "was", "were", "are", "be", "been", "will", "would", "has", "have",
    "had", "that", "which", "who", "this", "these", "those", "it", "as",
];
