//! espeak-ng loaded at run time as Piper's phonemizer, keeping clause punctuation in the phoneme stream.

use super::config::engine_error;
use crate::error::Result;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
/// Without this flag espeak-ng calls `exit()` when its data directory is unusable.
const ESPEAK_INITIALIZE_DONT_EXIT: c_int = 0x8000;
const ESPEAK_CHARS_UTF8: c_int = 1;
const ESPEAK_PHONEMES_IPA: c_int = 0x02;

type InitializeFn = unsafe extern "C" fn(c_int, c_int, *const c_char, c_int) -> c_int;
type SetVoiceByNameFn = unsafe extern "C" fn(*const c_char) -> c_int;
type TextToPhonemesFn = unsafe extern "C" fn(*mut *const c_void, c_int, c_int) -> *const c_char;

/// The loaded library. espeak-ng keeps global state and is not thread-safe, so every call
/// goes through one process-wide lock.
pub struct Espeak {
    state: Mutex<EspeakState>,
    pub library: PathBuf,
}

struct EspeakState {
    _library: libloading::Library,
    set_voice_by_name: SetVoiceByNameFn,
    text_to_phonemes: TextToPhonemesFn,
    current_voice: Option<String>,
}

static ESPEAK: OnceLock<std::result::Result<Espeak, String>> = OnceLock::new();

const BACKEND: &str = "piper (espeak-ng)";

impl Espeak {
    /// Loads and initialises espeak-ng once per process; later calls return the same instance.
    /// `data_dir` is the directory that contains `espeak-ng-data`.
    pub fn load(library: &Path, data_dir: &Path) -> Result<&'static Espeak> {
        ESPEAK
            .get_or_init(|| Self::open(library, data_dir))
            .as_ref()
            .map_err(|message| engine_error(BACKEND, message.clone()))
    }

    fn open(library: &Path, data_dir: &Path) -> std::result::Result<Espeak, String> {
        // SAFETY: loading a shared library runs its initialisers; libespeak-ng's are benign.
        let lib = unsafe { libloading::Library::new(library) }
            .map_err(|e| format!("cannot load {}: {e}", library.display()))?;
        // SAFETY: the signatures match espeak-ng's speak_lib.h (1.52).
        let (initialize, set_voice_by_name, text_to_phonemes) = unsafe {
            let symbol_error = |name: &str, e: libloading::Error| {
                format!("{} has no {name}: {e}", library.display())
            };
            let initialize: InitializeFn = *lib
                .get::<InitializeFn>(b"espeak_Initialize\0")
                .map_err(|e| symbol_error("espeak_Initialize", e))?;
            let set_voice: SetVoiceByNameFn = *lib
                .get::<SetVoiceByNameFn>(b"espeak_SetVoiceByName\0")
                .map_err(|e| symbol_error("espeak_SetVoiceByName", e))?;
            let to_phonemes: TextToPhonemesFn = *lib
                .get::<TextToPhonemesFn>(b"espeak_TextToPhonemes\0")
                .map_err(|e| symbol_error("espeak_TextToPhonemes", e))?;
            (initialize, set_voice, to_phonemes)
        };
        if !data_dir.join("espeak-ng-data").join("phontab").is_file() {
            return Err(format!(
                "espeak-ng data not found: {} has no espeak-ng-data/phontab",
                data_dir.display()
            ));
        }
        let data = CString::new(data_dir.as_os_str().as_encoded_bytes())
            .map_err(|_| format!("data path {} contains NUL", data_dir.display()))?;
        // SAFETY: data is a valid NUL-terminated path that outlives the call.
        let rate = unsafe {
            initialize(
                AUDIO_OUTPUT_SYNCHRONOUS,
                0,
                data.as_ptr(),
                ESPEAK_INITIALIZE_DONT_EXIT,
            )
        };
        if rate <= 0 {
            return Err(format!(
                "espeak_Initialize failed with data at {}",
                data_dir.display()
            ));
        }
        Ok(Espeak {
            state: Mutex::new(EspeakState {
                _library: lib,
                set_voice_by_name,
                text_to_phonemes,
                current_voice: None,
            }),
            library: library.to_path_buf(),
        })
    }

    /// Phonemizes one sentence in IPA, re-inserting the clause punctuation (`, : ; . ? !`) that
    /// espeak-ng consumes, because Piper voices were trained with it and use it for pauses and
    /// intonation.
    pub fn phonemize(&self, text: &str, voice: &str) -> Result<String> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| engine_error(BACKEND, "espeak-ng lock poisoned by an earlier panic"))?;
        if state.current_voice.as_deref() != Some(voice) {
            let name = CString::new(voice)
                .map_err(|_| engine_error(BACKEND, format!("bad voice '{voice}'")))?;
            // SAFETY: name is NUL-terminated and outlives the call.
            let status = unsafe { (state.set_voice_by_name)(name.as_ptr()) };
            if status != 0 {
                return Err(engine_error(
                    BACKEND,
                    format!("espeak-ng has no voice '{voice}' (error {status})"),
                ));
            }
            state.current_voice = Some(voice.to_string());
        }

        // espeak-ng stops at NUL; the text is ours, so dropping NULs loses nothing spoken.
        let cleaned: String = text.chars().filter(|&c| c != '\0').collect();
        let input = CString::new(cleaned.as_bytes())
            .map_err(|_| engine_error(BACKEND, "text contains NUL"))?;
        let base = input.as_ptr() as usize;
        let end = base + cleaned.len();
        let mut cursor: *const c_void = input.as_ptr().cast();
        let mut phonemes = String::new();
        while !cursor.is_null() {
            let clause_start = cursor as usize;
            // SAFETY: cursor points into `input`, which stays alive until the text is ended.
            let clause = unsafe { state.next_clause(&mut cursor) };
            let clause_end = if cursor.is_null() {
                end
            } else {
                (cursor as usize).clamp(clause_start, end)
            };
            let mut consumed = cleaned
                .get(clause_start - base..clause_end - base)
                .unwrap_or("");
            if !cursor.is_null() {
                // espeak-ng reads one character past the clause (the next clause's first,
                // which it keeps internally); the terminator sits before it.
                let mut chars = consumed.chars();
                chars.next_back();
                consumed = chars.as_str();
            }
            phonemes.push_str(clause.trim());
            match clause_terminator(consumed) {
                Some(mark) => {
                    phonemes.push(mark);
                    phonemes.push(' ');
                }
                None if !phonemes.is_empty() && !phonemes.ends_with(' ') => phonemes.push(' '),
                None => {}
            }
            // The loop runs until espeak-ng ends the text (NULL), not until the cursor reaches
            // the text's end: text ending in a closing quote or bracket leaves the cursor there
            // with espeak-ng still holding what it read past the last clause, and left there
            // that carries into the next call, whichever sentence it is (after `postponement."`
            // the "When" of the next lost its stress). Asked once more, espeak-ng reads nothing
            // and ends the text. A cursor that does not move, or moves past the text's NUL,
            // stops the loop rather than call espeak-ng again.
            let moved_within_text = (clause_start + 1..=end).contains(&(cursor as usize));
            if !cursor.is_null() && !moved_within_text {
                break;
            }
        }
        Ok(phonemes.trim_end().to_string())
    }
}

impl EspeakState {
    /// The IPA of the clause at `cursor`, which espeak-ng moves to the next clause (or to NULL
    /// once the text has ended).
    ///
    /// # Safety
    /// `cursor` points into a NUL-terminated UTF-8 text that outlives the call.
    unsafe fn next_clause(&self, cursor: &mut *const c_void) -> String {
        // SAFETY: the caller's guarantee; the returned string is espeak-ng's own buffer, copied
        // before the next call reuses it.
        unsafe {
            let out = (self.text_to_phonemes)(cursor, ESPEAK_CHARS_UTF8, ESPEAK_PHONEMES_IPA);
            if out.is_null() {
                String::new()
            } else {
                CStr::from_ptr(out).to_string_lossy().into_owned()
            }
        }
    }
}

/// The punctuation that ended an espeak-ng clause, as Piper's phonemizer keeps it.
/// Closing quotes and brackets after the mark do not hide it.
fn clause_terminator(consumed: &str) -> Option<char> {
    let tail = consumed.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | '”' | '’' | ')' | ']' | '»')
    });
    match tail.chars().last()? {
        c @ ('.' | ',' | '?' | '!' | ':' | ';') => Some(c),
        '…' => Some('.'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::clause_terminator;

    #[test]
    fn terminators_are_found_behind_closing_quotes() {
        assert_eq!(clause_terminator("Hello world. "), Some('.'));
        assert_eq!(clause_terminator("he said, "), Some(','));
        assert_eq!(clause_terminator("“Is it?” "), Some('?'));
        assert_eq!(clause_terminator("(really!) "), Some('!'));
        assert_eq!(clause_terminator("wait… "), Some('.'));
        assert_eq!(clause_terminator("no mark here"), None);
        assert_eq!(clause_terminator(""), None);
    }
}
