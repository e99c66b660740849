//! The page's words in English and Russian. Every text is a field of [`Text`], so a language
//! that lacks one does not compile. `{n}`-style holes are filled with [`fill`]. Problems come
//! from the worker and the loaders as values ([`LoadProblem`], [`PhotoProblem`]) and are worded
//! only here ([`load_problem`], [`photo_problem`]): one plain sentence in the visitor's
//! language, and the technical detail apart, for whoever opens it.

use cf_protocol::{LoadProblem, MorphProblem, PhotoProblem, StageTimes};

/// A language of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    /// The first of the browser's preferred languages that the page speaks; English otherwise.
    pub fn choose<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Lang {
        for tag in preferred {
            let primary = tag
                .split(['-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            match primary.as_str() {
                "ru" => return Lang::Ru,
                "en" => return Lang::En,
                _ => {}
            }
        }
        Lang::En
    }

    /// BCP 47 code, for `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ru,
            Lang::Ru => Lang::En,
        }
    }

    pub fn text(self) -> &'static Text {
        match self {
            Lang::En => &EN,
            Lang::Ru => &RU,
        }
    }
}

/// Replaces each `{key}` of `template` with its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_string(), |text, (key, value)| {
            text.replace(&format!("{{{key}}}"), value)
        })
}

/// Every text of the page.
pub struct Text {
    pub title: &'static str,
    pub lede: &'static str,
    /// The label of the switch, written in the other language.
    pub switch_language: &'static str,
    pub switch_language_name: &'static str,
    pub loading_index: &'static str,
    pub index_failed: &'static str,
    /// `{done}`, `{total}` in MB, `{percent}`.
    pub downloading: &'static str,
    pub preparing: &'static str,
    /// `{seconds}` the download has stood still.
    pub download_stalled: &'static str,
    /// The button that tries a failed load again.
    pub retry: &'static str,
    /// `{network}`, `{people}`, `{items}`.
    pub ready: &'static str,
    pub network_label: &'static str,
    pub network_identity: &'static str,
    pub network_second: &'static str,
    pub network_failed: &'static str,
    pub choose_photo: &'static str,
    pub drop_hint: &'static str,
    pub take_photo: &'static str,
    pub capture: &'static str,
    pub cancel: &'static str,
    pub camera_refused: &'static str,
    pub camera_absent: &'static str,
    pub camera_failed: &'static str,
    pub not_an_image: &'static str,
    pub privacy: &'static str,
    pub analysing: &'static str,
    pub photo_empty: &'static str,
    pub photo_unknown_format: &'static str,
    /// An iPhone photo this browser cannot read, and what to do.
    pub photo_heic: &'static str,
    /// Another image format known by name; `{format}`.
    pub photo_unsupported_format: &'static str,
    pub photo_too_large: &'static str,
    pub photo_damaged: &'static str,
    pub photo_failed: &'static str,
    pub no_face_in_box: &'static str,
    pub no_face_found: &'static str,
    /// `{n}`.
    pub faces_found: &'static str,
    pub one_face_found: &'static str,
    /// While the detector's second look, for small faces and faces lying turned, runs.
    pub looking_for_more: &'static str,
    pub edit_hint: &'static str,
    /// `{n}`, `{count}`.
    pub face_label: &'static str,
    /// After [`Text::face_label`], for a face found upside down.
    pub face_upside_down: &'static str,
    /// After [`Text::face_label`], for a face found lying on its side.
    pub face_on_its_side: &'static str,
    pub drawn_face: &'static str,
    pub what_network_sees: &'static str,
    pub matches_title: &'static str,
    pub distinct_toggle: &'static str,
    /// `{threshold}`.
    pub similarity_explained: &'static str,
    pub similarity_label: &'static str,
    pub one_photo: &'static str,
    /// `{n}`.
    pub photos_of_person: &'static str,
    pub close: &'static str,
    /// `{name}`, `{n}`.
    pub all_photos_title: &'static str,
    pub download_card: &'static str,
    /// The morph: the card's button, its dialog's title (`{name}`), the slider's label and
    /// its two ends (`{name}`), saving, and its progress.
    pub morph: &'static str,
    pub morph_with: &'static str,
    pub morph_title: &'static str,
    pub morph_slider: &'static str,
    pub morph_you: &'static str,
    pub morph_preparing: &'static str,
    pub morph_save_gif: &'static str,
    pub morph_making_gif: &'static str,
    pub morph_no_portraits: &'static str,
    pub morph_portrait_unreachable: &'static str,
    pub morph_no_face_in_portrait: &'static str,
    pub morph_no_face: &'static str,
    pub morph_not_ready: &'static str,
    pub morph_failed: &'static str,
    pub card_caption: &'static str,
    /// `{total}` and the stages.
    pub timing: &'static str,
    /// `{decode}`, `{detect}`, `{landmarks}`, `{align}`, `{embed}`, `{estimate}`, `{search}`,
    /// `{render}`.
    pub timing_stages: &'static str,
    pub developer_tools: &'static str,
    pub details: &'static str,
    /// The gender filter's label, and its three choices.
    pub show: &'static str,
    pub show_women: &'static str,
    pub show_men: &'static str,
    pub show_everyone: &'static str,
    /// Why one choice is already made, without saying it of the visitor.
    pub show_preset: &'static str,
    pub well_known_only: &'static str,
    pub wikipedia: &'static str,
    /// `{name}`.
    pub wikipedia_name: &'static str,
    /// `{file}`.
    pub load_unreachable: &'static str,
    /// `{file}`, `{status}`.
    pub load_http: &'static str,
    /// `{file}`.
    pub load_damaged: &'static str,
    pub load_manifest: &'static str,
    /// `{network}`.
    pub load_unknown_network: &'static str,
    /// `{network}`.
    pub load_unsupported_network: &'static str,
    /// `{file}`.
    pub load_model: &'static str,
    pub load_index: &'static str,
    /// `{min}`.
    pub box_too_small: &'static str,
    pub photo_not_ready: &'static str,
}

static EN: Text = Text {
    title: "CelebrityFaces",
    lede: "Which celebrity do you look like? Everything runs in your browser: your photo never leaves your device.",
    switch_language: "По-русски",
    switch_language_name: "Switch to Russian",
    loading_index: "Loading the index…",
    index_failed: "The face models or the index could not be loaded: {message}",
    downloading: "Downloading the models and index: {done} of {total} MB ({percent} %)",
    preparing: "Preparing the models…",
    download_stalled: "The download has not moved for {seconds} s: the connection may be slow or cut. It goes on by itself when the connection comes back.",
    retry: "Try again",
    ready: "Ready: {items} photos of {people} people ({network}).",
    network_label: "Compare by",
    network_identity: "MobileFaceNet: who you are most like",
    network_second: "Second opinion: another network's look-alikes",
    network_failed: "That comparison could not be loaded: {message}",
    choose_photo: "Choose a photo",
    drop_hint: "…or drop one here, or paste it (Ctrl+V).",
    take_photo: "Take a photo",
    capture: "Capture",
    cancel: "Cancel",
    camera_refused: "The camera was refused. Allow it in the browser's site settings, or choose a photo instead.",
    camera_absent: "No camera was found on this device. Choose a photo instead.",
    camera_failed: "The camera could not be started: {message}",
    not_an_image: "That is not an image. Choose a JPEG, PNG, WebP, GIF or BMP photo.",
    privacy: "Your photo is analysed on this device and is never uploaded or stored.",
    analysing: "Looking for faces…",
    photo_empty: "The file is empty.",
    photo_unknown_format: "This file is not a photo the page can read. Use JPEG, PNG, WebP, GIF or BMP.",
    photo_heic: "This is an HEIC photo, the iPhone's own format, which this browser cannot read: share it as JPEG (on the iPhone, Settings, Camera, Formats, Most Compatible) and choose it again.",
    photo_unsupported_format: "The page cannot read {format} images: save this one as JPEG or PNG and choose it again.",
    photo_too_large: "This photo is too large to read: save a smaller copy (4,000 pixels on the longer side is plenty) and choose it again.",
    photo_damaged: "This photo is damaged and cannot be read.",
    photo_failed: "The photo could not be analysed.",
    no_face_in_box: "No face could be read in that box. Draw it around the eyes, nose and mouth.",
    no_face_found: "No face was found. Drag on the photo to draw a box around a face.",
    faces_found: "{n} faces found. Pick one by clicking its box.",
    one_face_found: "One face found.",
    looking_for_more: "Looking for smaller or turned faces…",
    edit_hint: "Drag the box to move it, its corners to resize it, or drag on the photo to draw a new one. With the keyboard: arrows move, Shift+arrows resize.",
    face_label: "Face {n} of {count}",
    face_upside_down: ", upside down",
    face_on_its_side: ", on its side",
    drawn_face: "Face you drew",
    what_network_sees: "What the network sees",
    matches_title: "Your celebrity matches",
    distinct_toggle: "One photo per person",
    similarity_explained: "Similarity is how close two faces are for the network, from 0 to 100 %. On LFW's test pairs, two photos of one person mostly score above {threshold} % and two different people below it; among thousands of faces a stranger's best look-alikes often pass it too, so read it as resemblance, not identity.",
    similarity_label: "similarity",
    one_photo: "1 photo",
    photos_of_person: "{n} photos",
    close: "Close",
    all_photos_title: "All {n} photos of {name}",
    download_card: "Download result card",
    morph: "Morph",
    morph_with: "Morph with {name}",
    morph_title: "You and {name}",
    morph_slider: "From you to {name}",
    morph_you: "You",
    morph_preparing: "Preparing the morph…",
    morph_save_gif: "Save as GIF",
    morph_making_gif: "Making the GIF…",
    morph_no_portraits: "This index has no larger photos to morph with.",
    morph_portrait_unreachable: "The photo of {name} could not be downloaded. Check the connection and try again.",
    morph_no_face_in_portrait: "No face could be read in the photo of {name}. Try another of their photos.",
    morph_no_face: "Your face could not be read in this box. Move the box onto your face and try again.",
    morph_not_ready: "The face models are not loaded yet. Try again in a moment.",
    morph_failed: "The morph could not be made.",
    card_caption: "My celebrity look-alike",
    timing: "Matched in {total} ms",
    timing_stages: "decode {decode}, detect {detect}, landmarks {landmarks}, align {align}, embed {embed}, gender estimate {estimate}, search {search}, render {render} ms",
    developer_tools: "For developers: search by index item",
    details: "Details",
    show: "Show",
    show_women: "Women",
    show_men: "Men",
    show_everyone: "Everyone",
    show_preset: "Preselected from the photo. Change it any time.",
    well_known_only: "Well-known people only",
    wikipedia: "Wikipedia",
    wikipedia_name: "Look up {name} on Wikipedia (opens a new tab)",
    load_unreachable: "{file} could not be downloaded: the connection failed. Check that you are online, then try again.",
    load_http: "The site answered “{status}” for {file}. Try again in a moment; if it happens again, the site is being updated or is broken.",
    load_damaged: "{file} arrived damaged or belongs to another version of the site (it may be being updated). Try again in a moment.",
    load_manifest: "The index description could not be read (the site may be being updated). Try again in a moment.",
    load_unknown_network: "The comparison “{network}” is not in this index.",
    load_unsupported_network: "This page cannot compute the comparison “{network}”. Reload to get the newest version of the page.",
    load_model: "The face model {file} could not be prepared in this browser. Try another browser.",
    load_index: "The index is damaged and cannot be searched. Reload the page.",
    box_too_small: "That box is too small to read a face: make it at least {min} pixels on each side.",
    photo_not_ready: "The face models did not load, so photos cannot be analysed. Reload the page.",
};

static RU: Text = Text {
    title: "CelebrityFaces",
    lede: "На какую знаменитость вы похожи? Всё работает в вашем браузере: фото не покидает ваше устройство.",
    switch_language: "English",
    switch_language_name: "Переключить на английский",
    loading_index: "Загружаем индекс…",
    index_failed: "Не удалось загрузить модели или индекс: {message}",
    downloading: "Загружаем модели и индекс: {done} из {total} МБ ({percent} %)",
    preparing: "Готовим модели…",
    download_stalled: "Загрузка стоит уже {seconds} с: соединение медленное или прервалось. Она продолжится сама, когда связь восстановится.",
    retry: "Попробовать ещё раз",
    ready: "Готово: {items} фото {people} человек ({network}).",
    network_label: "Сравнивать по",
    network_identity: "MobileFaceNet: на кого вы больше всего похожи",
    network_second: "Второе мнение: двойники по другой нейросети",
    network_failed: "Не удалось загрузить это сравнение: {message}",
    choose_photo: "Выбрать фото",
    drop_hint: "…или перетащите его сюда, или вставьте (Ctrl+V).",
    take_photo: "Сделать снимок",
    capture: "Снять",
    cancel: "Отмена",
    camera_refused: "Доступ к камере запрещён. Разрешите его в настройках сайта в браузере или выберите фото.",
    camera_absent: "На этом устройстве нет камеры. Выберите фото.",
    camera_failed: "Не удалось включить камеру: {message}",
    not_an_image: "Это не изображение. Выберите фото JPEG, PNG, WebP, GIF или BMP.",
    privacy: "Фото анализируется на этом устройстве, никуда не отправляется и не сохраняется.",
    analysing: "Ищем лица…",
    photo_empty: "Файл пуст.",
    photo_unknown_format: "Страница не может прочитать этот файл. Используйте JPEG, PNG, WebP, GIF или BMP.",
    photo_heic: "Это фото в формате HEIC, родном формате iPhone, и этот браузер не может его прочитать: отправьте его как JPEG (на iPhone: Настройки, Камера, Форматы, Наиболее совместимый) и выберите снова.",
    photo_unsupported_format: "Это изображение в формате {format}, и страница не может его прочитать: сохраните его как JPEG или PNG и выберите снова.",
    photo_too_large: "Фото слишком большое, чтобы его прочитать: сохраните уменьшенную копию (4000 пикселей по длинной стороне вполне достаточно) и выберите её.",
    photo_damaged: "Фото повреждено и не читается.",
    photo_failed: "Не удалось проанализировать фото.",
    no_face_in_box: "В этой рамке не удалось найти лицо. Обведите глаза, нос и рот.",
    no_face_found: "Лиц не найдено. Обведите лицо рамкой, протянув по фото.",
    faces_found: "Найдено лиц: {n}. Выберите одно, нажав на его рамку.",
    one_face_found: "Найдено одно лицо.",
    looking_for_more: "Ищем лица поменьше и повёрнутые…",
    edit_hint: "Рамку можно перетащить, за углы — изменить размер, а протянув по фото — нарисовать новую. С клавиатуры: стрелки двигают, Shift+стрелки меняют размер.",
    face_label: "Лицо {n} из {count}",
    face_upside_down: ", перевёрнуто",
    face_on_its_side: ", на боку",
    drawn_face: "Нарисованное вами лицо",
    what_network_sees: "Что видит нейросеть",
    matches_title: "Похожие знаменитости",
    distinct_toggle: "Одно фото на человека",
    similarity_explained: "Сходство — насколько близки два лица для нейросети, от 0 до 100 %. На тестовых парах LFW два фото одного человека обычно дают больше {threshold} %, а разных людей — меньше; среди тысяч лиц самые похожие двойники незнакомца часто тоже проходят этот порог, так что это сходство, а не личность.",
    similarity_label: "сходство",
    one_photo: "Фото: 1",
    photos_of_person: "Фото: {n}",
    close: "Закрыть",
    all_photos_title: "Все фото ({n}): {name}",
    download_card: "Скачать карточку результата",
    morph: "Морфинг",
    morph_with: "Морфинг с {name}",
    morph_title: "Вы и {name}",
    morph_slider: "От вас к {name}",
    morph_you: "Вы",
    morph_preparing: "Готовим морфинг…",
    morph_save_gif: "Сохранить GIF",
    morph_making_gif: "Делаем GIF…",
    morph_no_portraits: "В этом индексе нет больших фотографий для морфинга.",
    morph_portrait_unreachable: "Не удалось загрузить фотографию {name}. Проверьте подключение и попробуйте ещё раз.",
    morph_no_face_in_portrait: "На фотографии {name} не удалось найти лицо. Попробуйте другую фотографию.",
    morph_no_face: "В этой рамке не удалось найти ваше лицо. Передвиньте рамку на лицо и попробуйте ещё раз.",
    morph_not_ready: "Модели лиц ещё не загружены. Попробуйте через минуту.",
    morph_failed: "Не удалось сделать морфинг.",
    card_caption: "Моя знаменитость-двойник",
    timing: "Найдено за {total} мс",
    timing_stages: "декодирование {decode}, поиск лиц {detect}, точки лица {landmarks}, выравнивание {align}, вектор {embed}, оценка пола {estimate}, поиск {search}, показ {render} мс",
    developer_tools: "Для разработчиков: поиск по номеру фото в индексе",
    details: "Подробности",
    show: "Показать",
    show_women: "Женщин",
    show_men: "Мужчин",
    show_everyone: "Всех",
    show_preset: "Выбрано по фото. Можно изменить в любой момент.",
    well_known_only: "Только известных людей",
    wikipedia: "Википедия",
    wikipedia_name: "Найти {name} в Википедии (откроется новая вкладка)",
    load_unreachable: "Не удалось скачать {file}: нет соединения. Проверьте подключение к интернету и попробуйте ещё раз.",
    load_http: "Сайт ответил «{status}» на запрос {file}. Попробуйте ещё раз чуть позже; если это повторится, сайт обновляется или неисправен.",
    load_damaged: "Файл {file} пришёл повреждённым или от другой версии сайта (возможно, сайт сейчас обновляется). Попробуйте ещё раз чуть позже.",
    load_manifest: "Не удалось прочитать описание индекса (возможно, сайт сейчас обновляется). Попробуйте ещё раз чуть позже.",
    load_unknown_network: "Сравнения «{network}» нет в этом индексе.",
    load_unsupported_network: "Эта страница не умеет считать сравнение «{network}». Перезагрузите её, чтобы получить новую версию.",
    load_model: "Модель лица {file} не удалось подготовить в этом браузере. Попробуйте другой браузер.",
    load_index: "Индекс повреждён, искать по нему нельзя. Перезагрузите страницу.",
    box_too_small: "Рамка слишком мала, чтобы прочитать лицо: сделайте её не меньше {min} пикселей с каждой стороны.",
    photo_not_ready: "Модели лиц не загрузились, поэтому фото нельзя проанализировать. Перезагрузите страницу.",
};

/// A problem in words: what happened and what to do, and the technical detail where there is
/// one (shown folded, for whoever asks).
#[derive(Clone, Debug, PartialEq)]
pub struct Worded {
    pub message: String,
    pub detail: Option<String>,
}

/// Why the models or the index could not be loaded, in `lang`.
pub fn load_problem(lang: Lang, problem: &LoadProblem) -> Worded {
    let text = lang.text();
    let (message, detail) = match problem {
        LoadProblem::Unreachable { file, detail } => {
            (fill(text.load_unreachable, &[("file", file)]), Some(detail))
        }
        LoadProblem::Http { file, status } => (
            fill(
                text.load_http,
                &[("file", file), ("status", &status.to_string())],
            ),
            None,
        ),
        LoadProblem::Damaged { file, detail } => {
            (fill(text.load_damaged, &[("file", file)]), Some(detail))
        }
        LoadProblem::Manifest { detail } => (text.load_manifest.to_string(), Some(detail)),
        LoadProblem::UnknownNetwork { network } => (
            fill(text.load_unknown_network, &[("network", network)]),
            None,
        ),
        LoadProblem::UnsupportedNetwork { network } => (
            fill(text.load_unsupported_network, &[("network", network)]),
            None,
        ),
        LoadProblem::Model { file, detail } => {
            (fill(text.load_model, &[("file", file)]), Some(detail))
        }
        LoadProblem::Index { detail } => (text.load_index.to_string(), Some(detail)),
    };
    Worded {
        message,
        detail: detail.cloned(),
    }
}

/// Why a photo or a box could not be used, in `lang`.
pub fn photo_problem(lang: Lang, problem: &PhotoProblem) -> Worded {
    let text = lang.text();
    let (message, detail) = match problem {
        PhotoProblem::Empty => (text.photo_empty.to_string(), None),
        PhotoProblem::UnknownFormat { detail } => {
            (text.photo_unknown_format.to_string(), Some(detail))
        }
        PhotoProblem::UnsupportedFormat { format } if format == "HEIC" => {
            (text.photo_heic.to_string(), None)
        }
        PhotoProblem::UnsupportedFormat { format } => (
            fill(text.photo_unsupported_format, &[("format", format)]),
            None,
        ),
        PhotoProblem::TooLarge { detail } => (text.photo_too_large.to_string(), Some(detail)),
        PhotoProblem::Damaged { detail } => (text.photo_damaged.to_string(), Some(detail)),
        PhotoProblem::BoxTooSmall { min_side } => (
            fill(text.box_too_small, &[("min", &min_side.to_string())]),
            None,
        ),
        PhotoProblem::NoFaceInBox { detail } => (text.no_face_in_box.to_string(), Some(detail)),
        PhotoProblem::NotReady => (text.photo_not_ready.to_string(), None),
        PhotoProblem::Failed { detail } => (text.photo_failed.to_string(), Some(detail)),
    };
    Worded {
        message,
        detail: detail.cloned(),
    }
}

/// Why the morph with `name` could not be made, in `lang`.
pub fn morph_problem(lang: Lang, problem: &MorphProblem, name: &str) -> Worded {
    let text = lang.text();
    let named = |template: &str| fill(template, &[("name", name)]);
    let (message, detail) = match problem {
        MorphProblem::NoPortraits => (text.morph_no_portraits.to_string(), None),
        MorphProblem::PortraitUnreachable { detail } => {
            (named(text.morph_portrait_unreachable), Some(detail))
        }
        MorphProblem::NoFaceInPortrait { detail } => {
            (named(text.morph_no_face_in_portrait), Some(detail))
        }
        MorphProblem::NoFace { detail } => (text.morph_no_face.to_string(), Some(detail)),
        MorphProblem::NotReady => (text.morph_not_ready.to_string(), None),
        MorphProblem::Failed { detail } => (text.morph_failed.to_string(), Some(detail)),
    };
    Worded {
        message,
        detail: detail.cloned(),
    }
}

/// The time of each stage of a match, in `lang`.
pub fn stage_times(lang: Lang, times: &StageTimes, render: f64) -> String {
    let ms = |value: f64| format!("{value:.1}");
    fill(
        lang.text().timing_stages,
        &[
            ("decode", &ms(times.decode)),
            ("detect", &ms(times.detect)),
            ("landmarks", &ms(times.landmarks)),
            ("align", &ms(times.align)),
            ("embed", &ms(times.embed)),
            ("estimate", &ms(times.estimate)),
            ("search", &ms(times.search)),
            ("render", &ms(render)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_language_picks_the_page_language() {
        assert_eq!(Lang::choose(["ru-RU", "en"]), Lang::Ru);
        assert_eq!(Lang::choose(["de-DE", "en-GB", "ru"]), Lang::En);
        assert_eq!(Lang::choose(["de", "RU"]), Lang::Ru);
        assert_eq!(Lang::choose([]), Lang::En);
        assert_eq!(Lang::Ru.other(), Lang::En);
    }

    #[test]
    fn every_problem_is_one_plain_sentence_in_each_language_with_the_detail_apart() {
        for lang in [Lang::En, Lang::Ru] {
            let worded: Vec<Worded> = LoadProblem::examples()
                .iter()
                .map(|p| load_problem(lang, p))
                .chain(
                    PhotoProblem::examples()
                        .iter()
                        .map(|p| photo_problem(lang, p)),
                )
                .chain(
                    MorphProblem::examples()
                        .iter()
                        .map(|p| morph_problem(lang, p, "Ann Lee")),
                )
                .collect();
            for (problem, words) in worded.iter().enumerate() {
                let message = &words.message;
                assert!(!message.contains('{'), "{lang:?} {problem}: {message}");
                if let Some(detail) = &words.detail {
                    assert!(
                        !message.contains(detail.as_str()),
                        "the detail stays apart: {message}"
                    );
                }
                assert!(message.ends_with('.'), "{lang:?} {problem}: {message}");
                if lang == Lang::Ru {
                    assert!(
                        message.chars().any(|c| ('а'..='я').contains(&c)),
                        "Russian words: {message}"
                    );
                }
            }
            let http = LoadProblem::Http {
                file: "look-000.bin".into(),
                status: 404,
            };
            assert!(load_problem(lang, &http).message.contains("404"));
            assert!(
                photo_problem(lang, &PhotoProblem::BoxTooSmall { min_side: 16 })
                    .message
                    .contains("16")
            );
        }
    }

    #[test]
    fn stage_times_are_worded_in_each_language() {
        let times = StageTimes {
            decode: 11.04,
            embed: 25.0,
            ..StageTimes::default()
        };
        assert!(stage_times(Lang::En, &times, 2.0).starts_with("decode 11.0,"));
        let ru = stage_times(Lang::Ru, &times, 2.0);
        assert!(
            ru.contains("25.0") && ru.ends_with("мс") && !ru.contains('{'),
            "{ru}"
        );
    }

    #[test]
    fn holes_are_filled_in_both_languages() {
        for lang in [Lang::En, Lang::Ru] {
            let text = fill(lang.text().faces_found, &[("n", "3")]);
            assert!(text.contains('3') && !text.contains("{n}"), "{text}");
            let text = fill(lang.text().download_stalled, &[("seconds", "12")]);
            assert!(text.contains("12") && !text.contains('{'), "{text}");
            let text = fill(
                lang.text().downloading,
                &[("done", "1.0"), ("total", "9.5"), ("percent", "11")],
            );
            assert!(!text.contains('{'), "{text}");
        }
    }
}
