//! One abbreviation table, read by both the sentence splitter and the normalizer.
//!
//! Each entry is written without its final period (`Mr`, `e.g`, `Ph.D`) and matched
//! case-sensitively. Its [`Kind`] tells [`crate::segment`] whether a full stop after it may
//! end a sentence, and [`crate::normalize`] where it is said in full.

/// How an abbreviation behaves at a possible sentence end, and where it is said in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A title or rank before a name (`Gov.`, `Sgt.`, `Mt. Fuji`): never ends a sentence;
    /// said in full before a capitalised word.
    Title,
    /// `Dr.` and `St.`: a title before a name (`Dr. Lee`, `St. Louis`) and a street after a
    /// name or a number (`Elm Dr.`, `5th St.`), said `street` there. A title never ends a
    /// sentence; a street ends one only before a word that opens one.
    TitleOrStreet { street: &'static str },
    /// Joins two names (`Roe v. Wade`): never ends a sentence after a name; said in full
    /// between two names.
    BetweenNames,
    /// Introduces what follows (`Mr.`, `e.g.`, `approx.`): never ends a sentence; always said
    /// in full.
    Prefix,
    /// Closes a name (`Acme Inc.`, `Smith Jr.`, `Elm Ave.`), so it may close a sentence too:
    /// ends one only before a word that opens one; said in full after a name.
    AfterName,
    /// Stands anywhere (`etc.`, `Dept.`, `et al.`): ends a sentence only before a word that
    /// opens one; always said in full, if it has a spoken form.
    Anywhere,
    /// A month, said in full in a date. Most end a sentence only before a word that opens
    /// one; those marked `only_before_a_number` count as months only before a number.
    Month { only_before_a_number: bool },
    /// A U.S. state in AP style (`Calif.`). Mid-sentence a state is followed by a comma or a
    /// lower-case word (`Pasadena, Calif., police said`), so before a capitalised word it
    /// ends the sentence. Said in full only where it follows a city: `Pasadena, Calif.`
    State,
    /// Introduces a number (`No. 5`, `p. 55`): never ends a sentence before a digit, and is
    /// said in full there. Before anything else it is not an abbreviation (`He said No.`).
    Number,
}

use Kind::{AfterName, Anywhere, BetweenNames, Number, Prefix, State, Title, TitleOrStreet};

/// One abbreviation: how it is written (without its final period), how it is said, and how
/// it behaves.
#[derive(Debug)]
pub(crate) struct Abbreviation {
    pub(crate) written: &'static str,
    /// `None` where the written form is also the spoken one (`et al.`).
    pub(crate) spoken: Option<&'static str>,
    pub(crate) kind: Kind,
    /// Whether it is also written without its period (`Mr Smith`, British style).
    period_optional: bool,
}

impl Abbreviation {
    /// Whether it is said in full even without its final period: when it is often written
    /// so (`Mr Smith`), or when its other marks make it unmistakable (`e.g`, `N°`).
    pub(crate) fn said_without_period(&self) -> bool {
        self.period_optional || !self.written.chars().all(char::is_alphabetic)
    }

    const fn period_optional(self) -> Self {
        Abbreviation {
            period_optional: true,
            ..self
        }
    }
}

const fn said(written: &'static str, spoken: &'static str, kind: Kind) -> Abbreviation {
    Abbreviation {
        written,
        spoken: Some(spoken),
        kind,
        period_optional: false,
    }
}

const fn as_written(written: &'static str, kind: Kind) -> Abbreviation {
    Abbreviation {
        written,
        spoken: None,
        kind,
        period_optional: false,
    }
}

const fn month(written: &'static str, spoken: &'static str) -> Abbreviation {
    said(
        written,
        spoken,
        Kind::Month {
            only_before_a_number: false,
        },
    )
}

/// AP style never abbreviates March to July and writes `Sept.`, so these forms are rarer as
/// months than as words or names (`mar`, `Jun`): they count as months only before a number.
const fn month_before_a_number(written: &'static str, spoken: &'static str) -> Abbreviation {
    said(
        written,
        spoken,
        Kind::Month {
            only_before_a_number: true,
        },
    )
}

/// Every abbreviation both modules know. A written form appears once.
pub(crate) const ABBREVIATIONS: &[Abbreviation] = &[
    // Titles and ranks.
    said("Prof", "Professor", Title),
    said("Gov", "Governor", Title),
    said("Sen", "Senator", Title),
    said("Sens", "Senators", Title),
    said("Rep", "Representative", Title),
    said("Reps", "Representatives", Title),
    said("Pres", "President", Title),
    said("Lt", "Lieutenant", Title),
    said("Col", "Colonel", Title),
    said("Gen", "General", Title),
    said("Gens", "Generals", Title),
    said("Maj", "Major", Title),
    said("Brig", "Brigadier", Title),
    said("Sgt", "Sergeant", Title),
    said("Cpl", "Corporal", Title),
    said("Pvt", "Private", Title),
    said("Capt", "Captain", Title),
    said("Cmdr", "Commander", Title),
    said("Adm", "Admiral", Title),
    said("Rev", "Reverend", Title),
    said("Hon", "Honorable", Title),
    said("Msgr", "Monsignor", Title),
    said("Fr", "Father", Title),
    said("Supt", "Superintendent", Title),
    said("Det", "Detective", Title),
    said("Insp", "Inspector", Title),
    said("Atty", "Attorney", Title),
    said("Mt", "Mount", Title),
    said("Ft", "Fort", Title),
    said("Dr", "Doctor", TitleOrStreet { street: "Drive" }),
    said("St", "Saint", TitleOrStreet { street: "Street" }),
    said("v", "versus", BetweenNames),
    // Forms of address and short forms that introduce what follows.
    said("Mr", "Mister", Prefix).period_optional(),
    said("Mrs", "Missus", Prefix).period_optional(),
    said("Ms", "Miz", Prefix).period_optional(),
    said("Mx", "Mix", Prefix).period_optional(),
    said("Messrs", "Messieurs", Prefix),
    said("Mmes", "Mesdames", Prefix),
    said("vs", "versus", Prefix).period_optional(),
    said("e.g", "for example", Prefix),
    said("i.e", "that is", Prefix),
    said("cf", "compare", Prefix),
    said("viz", "namely", Prefix),
    said("a.k.a", "also known as", Prefix),
    said("approx", "approximately", Prefix),
    // Company forms, name suffixes and street types.
    said("Inc", "Incorporated", AfterName),
    said("Corp", "Corporation", AfterName),
    said("Ltd", "Limited", AfterName),
    said("Co", "Company", AfterName),
    said("Bros", "Brothers", AfterName),
    said("Jr", "Junior", AfterName),
    said("Sr", "Senior", AfterName),
    said("Esq", "Esquire", AfterName),
    said("Ave", "Avenue", AfterName),
    said("Blvd", "Boulevard", AfterName),
    said("Rd", "Road", AfterName),
    // Anywhere in a sentence.
    said("etc", "et cetera", Anywhere),
    as_written("al", Anywhere),
    said("Dept", "Department", Anywhere),
    said("Ph.D", "P H D", Anywhere),
    // Months (May has no short form).
    month("Jan", "January"),
    month("Feb", "February"),
    month_before_a_number("Mar", "March"),
    month_before_a_number("Apr", "April"),
    month_before_a_number("Jun", "June"),
    month_before_a_number("Jul", "July"),
    month("Aug", "August"),
    month("Sept", "September"),
    month_before_a_number("Sep", "September"),
    month("Oct", "October"),
    month("Nov", "November"),
    month("Dec", "December"),
    // U.S. states in AP style, leaving out those that are also words (`Ill.`, `Wash.`,
    // `Mass.`) and the dotted ones, which are initialisms (`N.Y.`).
    said("Ala", "Alabama", State),
    said("Ariz", "Arizona", State),
    said("Ark", "Arkansas", State),
    said("Calif", "California", State),
    said("Colo", "Colorado", State),
    said("Conn", "Connecticut", State),
    said("Del", "Delaware", State),
    said("Fla", "Florida", State),
    said("Ga", "Georgia", State),
    said("Ind", "Indiana", State),
    said("Kan", "Kansas", State),
    said("Ky", "Kentucky", State),
    said("Md", "Maryland", State),
    said("Mich", "Michigan", State),
    said("Minn", "Minnesota", State),
    said("Mont", "Montana", State),
    said("Neb", "Nebraska", State),
    said("Nev", "Nevada", State),
    said("Okla", "Oklahoma", State),
    said("Ore", "Oregon", State),
    said("Pa", "Pennsylvania", State),
    said("Tenn", "Tennessee", State),
    said("Vt", "Vermont", State),
    said("Va", "Virginia", State),
    said("Wis", "Wisconsin", State),
    said("Wyo", "Wyoming", State),
    // Before a number.
    said("No", "number", Number),
    said("no", "number", Number),
    said("Nos", "numbers", Number),
    said("N°", "number", Number),
    said("№", "number", Number),
    said("p", "page", Number),
    said("pp", "pages", Number),
    said("Vol", "volume", Number),
    said("vol", "volume", Number),
    said("Fig", "figure", Number),
    said("fig", "figure", Number),
];

/// The longest written form in bytes: a longer word is no abbreviation, without a search.
const LONGEST: usize = {
    let mut longest = 0;
    let mut index = 0;
    while index < ABBREVIATIONS.len() {
        let len = ABBREVIATIONS[index].written.len();
        if len > longest {
            longest = len;
        }
        index += 1;
    }
    longest
};

/// The abbreviation written `written` (without its final period), if it is one.
pub(crate) fn find(written: &str) -> Option<&'static Abbreviation> {
    if written.len() > LONGEST {
        return None;
    }
    ABBREVIATIONS
        .iter()
        .find(|abbreviation| abbreviation.written == written)
}

/// The full name of the month abbreviated `written` (`Oct` → `October`).
pub(crate) fn month_name(written: &str) -> Option<&'static str> {
    find(written)
        .filter(|abbreviation| matches!(abbreviation.kind, Kind::Month { .. }))
        .and_then(|abbreviation| abbreviation.spoken)
}

/// Words that number what follows (`World War I`, `Part II`, `Title IX`, `Type A`). After
/// one, a Roman numeral is a cardinal number, and a single capital with a period is a
/// numeral or a label, never an initial, so it may end a sentence.
#[rustfmt::skip]
pub(crate) const NUMBERING_WORDS: &[&str] = &[
    "War", "Bowl", "Apollo", "Title", "Article", "Section", "Chapter", "Part", "Book", "Volume",
    "Act", "Scene", "Phase", "Stage", "Step", "Level", "Tier", "Grade", "Class", "Type",
    "Category", "Round", "Season", "Episode", "Schedule", "Appendix",
];

#[cfg(test)]
mod tests {
    //! Each kind must mean the same to both readers: these run every entry of a kind through
    //! the sentence splitter and the normalizer.

    use super::*;
    use crate::normalize::normalize;
    use crate::segment::split_sentences;

    fn sentences(text: &str) -> Vec<&str> {
        split_sentences(text)
            .into_iter()
            .map(|range| &text[range])
            .collect()
    }

    fn spoken(text: &str) -> String {
        normalize(text).text().to_string()
    }

    fn of_kind(wanted: fn(Kind) -> bool) -> impl Iterator<Item = (&'static str, &'static str)> {
        ABBREVIATIONS
            .iter()
            .filter(move |entry| wanted(entry.kind))
            .map(|entry| (entry.written, entry.spoken.unwrap_or(entry.written)))
    }

    #[test]
    fn written_forms_are_unique_and_without_their_final_period() {
        for (index, entry) in ABBREVIATIONS.iter().enumerate() {
            assert!(!entry.written.ends_with('.'), "{:?}", entry.written);
            assert!(
                ABBREVIATIONS[..index]
                    .iter()
                    .all(|earlier| earlier.written != entry.written),
                "{:?} is in the table twice",
                entry.written
            );
            assert_eq!(
                find(entry.written).map(|found| found.kind),
                Some(entry.kind)
            );
        }
        assert!(find("Smith").is_none());
        assert!(find("Governor").is_none());
    }

    #[test]
    fn only_anywhere_abbreviations_may_be_said_as_written() {
        for entry in ABBREVIATIONS {
            assert!(
                entry.spoken.is_some() || entry.kind == Kind::Anywhere,
                "{:?} has no spoken form",
                entry.written
            );
        }
    }

    #[test]
    fn titles_never_end_a_sentence_and_are_said_before_a_name() {
        for (written, said) in of_kind(|kind| kind == Kind::Title) {
            let text = format!("We met {written}. The Smiths came too.");
            assert_eq!(sentences(&text), [text.as_str()], "{written}");
            assert_eq!(
                spoken(&format!("We met {written}. Smith today.")),
                format!("We met {said} Smith today."),
            );
            let unnamed = format!("We met the {written}. today.");
            assert_eq!(spoken(&unnamed), unnamed, "{written} before no name");
        }
    }

    #[test]
    fn prefixes_never_end_a_sentence_and_are_always_said_in_full() {
        for (written, said) in of_kind(|kind| kind == Kind::Prefix) {
            let text = format!("They said {written}. The rest agreed.");
            assert_eq!(sentences(&text), [text.as_str()], "{written}");
            assert_eq!(
                spoken(&format!("They said {written}. the rest agreed.")),
                format!("They said {said} the rest agreed."),
            );
        }
    }

    #[test]
    fn after_names_end_a_sentence_only_before_an_opener_and_are_said_after_a_name() {
        for (written, said) in of_kind(|kind| kind == Kind::AfterName) {
            let ends = format!("They met Ann Smith {written}. The talks ended.");
            assert_eq!(
                sentences(&ends),
                [
                    format!("They met Ann Smith {written}."),
                    "The talks ended.".into()
                ],
            );
            let goes_on = format!("They met Ann Smith {written}. Jones agreed.");
            assert_eq!(sentences(&goes_on), [goes_on.as_str()], "{written}");
            assert_eq!(
                spoken(&format!("They met Ann Smith {written}. today.")),
                format!("They met Ann Smith {said} today."),
            );
            let unnamed = format!("They met the {written}. today.");
            assert_eq!(spoken(&unnamed), unnamed, "{written} after no name");
        }
    }

    #[test]
    fn anywhere_abbreviations_end_a_sentence_only_before_an_opener_and_are_said_anywhere() {
        for entry in ABBREVIATIONS
            .iter()
            .filter(|entry| entry.kind == Kind::Anywhere)
        {
            let written = entry.written;
            let ends = format!("They brought pens {written}. The talks ended.");
            assert_eq!(
                sentences(&ends),
                [
                    format!("They brought pens {written}."),
                    "The talks ended.".into()
                ],
            );
            let goes_on = format!("They brought pens {written}. Jones agreed.");
            assert_eq!(sentences(&goes_on), [goes_on.as_str()], "{written}");
            let inside = format!("They brought pens {written}. today.");
            let said = entry.spoken.map_or_else(
                || inside.clone(),
                |said| format!("They brought pens {said} today."),
            );
            assert_eq!(spoken(&inside), said);
        }
    }

    #[test]
    fn titles_or_streets_are_titles_before_a_name_and_streets_after_one() {
        for entry in ABBREVIATIONS {
            let (Kind::TitleOrStreet { street }, Some(title)) = (entry.kind, entry.spoken) else {
                continue;
            };
            let written = entry.written;
            let title_text = format!("We met {written}. Jones today.");
            assert_eq!(sentences(&title_text), [title_text.as_str()], "{written}");
            assert_eq!(spoken(&title_text), format!("We met {title} Jones today."));
            let street_text = format!("They live on Elm {written}. The house is big.");
            assert_eq!(
                sentences(&street_text),
                [
                    format!("They live on Elm {written}."),
                    "The house is big.".into()
                ],
            );
            assert_eq!(
                spoken(&format!("They live on Elm {written}.")),
                format!("They live on Elm {street}."),
            );
        }
    }

    #[test]
    fn a_letter_after_a_numbering_word_is_a_numeral_in_both_modules() {
        for word in NUMBERING_WORDS {
            let text = format!("They reached {word} I. Veterans came home.");
            assert_eq!(
                sentences(&text),
                [
                    format!("They reached {word} I."),
                    "Veterans came home.".into()
                ],
            );
            assert_eq!(
                spoken(&format!("They reached {word} I.")),
                format!("They reached {word} one."),
            );
            assert_eq!(
                spoken(&format!("They reached {word} IV today.")),
                format!("They reached {word} four today."),
            );
        }
    }

    #[test]
    fn between_names_never_ends_a_sentence_and_is_said_between_names() {
        for (written, said) in of_kind(|kind| kind == Kind::BetweenNames) {
            let text = format!("Roe {written}. Wade was overturned.");
            assert_eq!(sentences(&text), [text.as_str()], "{written}");
            assert_eq!(spoken(&text), format!("Roe {said} Wade was overturned."));
        }
    }

    #[test]
    fn months_are_said_in_full_in_a_date_and_keep_a_date_in_one_sentence() {
        let is_month = |kind| matches!(kind, Kind::Month { .. });
        for (written, said) in of_kind(is_month) {
            let date = format!("It happened on {written}. 19, 2023. Nobody noticed.");
            assert_eq!(
                sentences(&date),
                [
                    format!("It happened on {written}. 19, 2023."),
                    "Nobody noticed.".into()
                ],
            );
            let spoken_date = spoken(&format!("It happened on {written}. 19, 2023."));
            assert!(
                spoken_date.starts_with(&format!("It happened on {said} nineteenth")),
                "{spoken_date}"
            );
            let ends = format!("It happened in {written}. The end came.");
            assert_eq!(sentences(&ends).len(), 2, "{ends}");
        }
        let only_before_a_number = |kind| {
            kind == Kind::Month {
                only_before_a_number: true,
            }
        };
        for (written, _) in of_kind(only_before_a_number) {
            let text = format!("Late in {written}. Smith said so.");
            assert_eq!(sentences(&text).len(), 2, "{text}");
        }
        let anywhere = |kind| {
            kind == Kind::Month {
                only_before_a_number: false,
            }
        };
        for (written, _) in of_kind(anywhere) {
            let text = format!("Late in {written}. Smith said so.");
            assert_eq!(sentences(&text), [text.as_str()]);
        }
    }

    #[test]
    fn states_end_a_sentence_before_a_capital_and_are_said_in_full_only_after_a_city() {
        for (written, said) in of_kind(|kind| kind == Kind::State) {
            assert_eq!(
                spoken(&format!("In Pasadena, {written}., police said.")),
                format!("In Pasadena, {said}, police said."),
            );
            assert_eq!(
                spoken(&format!("They moved to Pasadena, {written}.")),
                format!("They moved to Pasadena, {said}."),
            );
            let elsewhere = format!("They moved to {written}. today.");
            assert_eq!(spoken(&elsewhere), elsewhere);
            let inside = format!("In Pasadena, {written}. police said so.");
            assert_eq!(sentences(&inside), [inside.as_str()]);
            let ends = format!("The family moved to {written}. Smith said so.");
            assert_eq!(
                sentences(&ends),
                [
                    format!("The family moved to {written}."),
                    "Smith said so.".into()
                ],
            );
        }
    }

    #[test]
    fn number_abbreviations_hold_only_before_a_digit() {
        for (written, said) in of_kind(|kind| kind == Kind::Number) {
            let text = format!("See {written}. 5 for details.");
            assert_eq!(sentences(&text), [text.as_str()], "{written}");
            assert_eq!(spoken(&text), format!("See {said} five for details."));
            let no_number = format!("He said {written}. today.");
            assert_eq!(spoken(&no_number), no_number);
        }
    }
}
