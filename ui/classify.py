"""The three photo pages: a camera or uploads in, the model's answer out, as a phone user sees it."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from core import settings
from core.classifiers.classify import Prediction, Predictor
from core.classifiers.datasets import flower_photo
from core.classifiers.faces import MAX_STAR_PHOTOS, SAME_PERSON, add_star, likeness
from core.classifiers.model_card import ModelCard
from core.classifiers.subject import SubjectAnswer
from core.classifiers.tasks import OXFORD_PHOTO, GALLERY, GRAD_CAM, Task, task
from core.errors import GiroError, ModelError
from core.images import EXTENSIONS, header_pixels, load_image
from core.lan import camera_needs_https
from core.status import learner_status
from ui import common
from ui.cache import classifier, face_embedder, star_gallery, subject_check
from ui.common import as_text, page_header_ui, plot_text
from ui.setup import model_missing_ui

CONFIDENT = 0.5  # below this, the verdict says it is not sure (a model without calibration)
CALIBRATED_SURE = 0.7  # held-out answers this sure right less often than this: "not sure"
MAX_PHOTOS = 40  # per upload box


def photos_ui(key: str) -> list[tuple[str, Image.Image]]:
    """Photos from the camera and from uploads, decoded by the app's one loader.

    A file that cannot be used gets its one-line message; the others go on.
    """
    camera_tab, upload_tab = st.tabs(["📷 Camera", "🖼️ Upload"])
    with camera_tab:
        if camera_needs_https(st.context.url):
            st.info("The camera works only on the app's https:// address"
                    + (" (`make serve`)." if common.is_host() else ": ask the host for it.")
                    + " Meanwhile, Upload offers a phone's camera too.", icon="🔒")
        shot = st.camera_input("Take a photo", key=f"{key}_camera", resolution="720p")
    with upload_tab:
        uploads = st.file_uploader(
            "Photos (on a phone this also offers the camera, at full resolution)",
            type=list(EXTENSIONS), accept_multiple_files=True, key=f"{key}_uploads",
        )
    photos, skipped, budget = [], 0, settings.MAX_REQUEST_PIXELS
    files = [(f, "camera photo") for f in [shot] if f] + [(u, u.name) for u in first_photos(uploads or [])]
    for name, data in [(name, f.getvalue()) for f, name in newest_first(key, files)]:
        pixels = header_pixels(data)
        if pixels > budget:
            skipped += 1
            continue
        budget -= pixels
        try:
            photos.append((name, load_image(data, name=name, max_side=settings.PHOTO_MAX_SIDE)))
        except GiroError as error:
            st.error(as_text(str(error)), icon="🚫")
    if skipped:
        st.warning(f"{skipped} photo{'s' if skipped > 1 else ''} left out: together they hold over "
                   f"{settings.MAX_REQUEST_PIXELS // 10**6} megapixels, the most one answer reads. "
                   "Send them in smaller batches.")
    return photos


def newest_first(key: str, files: list[tuple]) -> list[tuple]:
    """(file, name) pairs, the ones added most recently first, each batch in its own order: the
    newest photo's answer comes first, whichever box it came from, not below the earlier ones."""
    state = st.session_state
    seen, batch = state.get(f"{key}_photo_batches", {}), state.get(f"{key}_photo_batch", 0)
    if any(f.file_id not in seen for f, _ in files):
        batch += 1
    # Only the files still in the boxes are remembered: the state does not grow with every photo.
    kept = {f.file_id: seen.get(f.file_id, batch) for f, _ in files}
    state[f"{key}_photo_batches"], state[f"{key}_photo_batch"] = kept, batch
    return sorted(files, key=lambda pair: -kept[pair[0].file_id])


def first_photos(uploads: list) -> list:
    """At most MAX_PHOTOS of the uploads, saying so when there were more: each photo costs a
    forward pass (and a Grad-CAM or a face search), and the server is shared."""
    if len(uploads) > MAX_PHOTOS:
        st.warning(f"{len(uploads)} photos: the first {MAX_PHOTOS} are used. Remove some to see the others.")
    return uploads[:MAX_PHOTOS]


def top_k_figure(prediction: Prediction, value_title: str = "probability") -> go.Figure:
    labels = [label for label, _ in prediction][::-1]
    values = [p for _, p in prediction][::-1]
    figure = go.Figure(go.Bar(
        x=values, y=labels, orientation="h", marker_color=["#e4007c" if v == max(values) else "#9ab"
                                                            for v in values],
        text=[f"{v:.0%}" for v in values], textposition="auto",
        hovertemplate="%{y}: %{x:.1%}<extra></extra>",
    ))
    figure.update_layout(height=60 + 34 * len(labels), margin={"l": 10, "r": 10, "t": 10, "b": 30},
                         xaxis={"range": [0, 1], "tickformat": ".0%", "title": value_title})
    return figure


def distance_figure(matches) -> go.Figure:
    """Face distances, nearest on top, against dlib's same-person line: shorter bars are closer."""
    labels = [m.star for m in matches][::-1]
    values = [m.distance for m in matches][::-1]
    figure = go.Figure(go.Bar(
        x=values, y=[plot_text(label) for label in labels], orientation="h",
        marker_color=["#e4007c" if v < SAME_PERSON else "#9ab" for v in values],
        text=[f"{v:.2f}" for v in values], textposition="auto",
        hovertemplate="%{y}: distance %{x:.2f}<extra></extra>",
    ))
    figure.add_vline(x=SAME_PERSON, line_dash="dash", line_color="#555",
                     annotation_text="same person", annotation_position="top")
    figure.update_layout(height=80 + 34 * len(labels), margin={"l": 10, "r": 10, "t": 30, "b": 30},
                         xaxis={"range": [0, max(1.0, *values) * 1.05], "title": "face distance (shorter: more alike)"})
    return figure


def verdict(prediction: Prediction, noun: str, card: ModelCard | None = None,
            subject: SubjectAnswer | None = None) -> tuple[str, str]:
    """The answer, and what the held-out photos say of answers this sure (empty without a
    calibrated model card). Where CLIP (`subject`) finds something else likelier than the page's
    subject, that comes first: the classes cannot say "none of us". Where the card has enough
    held-out answers at this confidence, they decide between an answer and "not sure"; otherwise
    the probability does."""
    label, probability = prediction[0]
    guesses = ", ".join(f"{l} ({p:.0%})" for l, p in prediction[:3])
    if subject is not None and not subject.is_subject:
        return (f"Probably not a {noun}: to CLIP this looks more like {_a(subject.likeliest)} "
                f"({subject.likeliest_probability:.0%}) than {_a(subject.subject)} ({subject.probability:.0%}). "
                f"Best guesses anyway: {guesses}."), ""
    record = card.held_out_record(probability) if card is not None else None
    if record is None:
        sure, note = probability >= CONFIDENT, ""
    else:
        sure = record.right / record.n >= CALIBRATED_SURE
        note = (f"Held-out photos the model was {record.low:.0%}-{record.high:.0%} sure of: "
                f"right {record.right} of {record.n} times.")
    if sure:
        return f"**{label}** ({probability:.0%} sure)", note
    return f"Not sure which {noun} this is. Best guesses: {guesses}.", note


def _a(thing: str) -> str:
    return f"{'an' if thing[0] in 'aeiou' else 'a'} {thing}"


def verdict_ui(prediction: Prediction, noun: str, card: ModelCard | None, container=st,
               subject: SubjectAnswer | None = None) -> None:
    words, note = verdict(prediction, noun, card, subject)
    container.markdown(words)
    if note:
        container.caption(note)


def model_card_ui(predictor: Predictor) -> None:
    card = predictor.card
    if predictor.about:  # not a trained learner: no card to show, a line instead
        st.caption(as_text(predictor.about))
        return
    with st.expander("Model card: trained learner"):
        if not card:
            st.write("This learner came without a model card.")
            return
        # Top-5 says nothing with five classes or fewer: every answer is in it.
        top5 = f", top-5 {card.top5_accuracy:.1%}" if len(card.classes) > 5 else ""
        st.write(
            f"**{card.architecture}** at {card.image_size} px, trained {card.date} on "
            f"{card.n_train} photos ({card.split}). Held-out accuracy "
            f"**{card.accuracy:.1%}**{top5} on {card.n_held_out} photos."
        )
        calibrated = [row for row in card.calibration if row.n]
        if calibrated:
            st.caption("How often it was right on held-out photos, by how sure it was: " + "; ".join(
                f"{row.low:.0%}-{row.high:.0%}: {row.right} of {row.n}" for row in calibrated) + ".")
        st.caption(f"{len(card.classes)} classes: " + ", ".join(card.classes[:30])
                   + (" ..." if len(card.classes) > 30 else ""))
        matrix = card.confusion_matrix
        if matrix and len(matrix) <= 40:
            figure = go.Figure(go.Heatmap(z=matrix, x=card.classes, y=card.classes,
                                          colorscale="RdPu", hovertemplate="true %{y}<br>predicted %{x}: %{z}<extra></extra>"))
            figure.update_layout(height=320, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                                 xaxis={"title": "predicted"}, yaxis={"title": "true", "autorange": "reversed"})
            st.plotly_chart(figure, width="stretch", key="confusion")


def page_ui(name: str) -> None:
    """A classifier page, as described in core.classifiers.tasks: the header, then its answer view."""
    described = task(name)
    page_header_ui(described.page, described.icon, described.summary)
    if described.source == GALLERY:
        lookalike_page_ui(described)
    else:
        classifier_page_ui(described)


def needs_text(described: Task) -> str:
    if described.source == GALLERY:
        return f"This page needs a gallery of {described.noun} photos, which this machine does not have yet."
    return (f"This page needs a trained {described.noun} learner or the zero-shot CLIP model, "
            "and this machine has neither yet.")


def missing_reason(described: Task) -> str:
    """For the host: what was looked for, and where."""
    reason = f"No learner at {described.learner_path()}"
    if described.zero_shot is not None:
        reason += f", and {settings.clip_model()} is not on this machine (the zero-shot fallback)"
    return reason + "."


def classifier_page_ui(described: Task) -> None:
    """Photo in; right under it the verdict and the chart; then the model's view, the extra
    picture and the model card, so a phone shows the answer without scrolling."""
    status = learner_status(described)
    if not status.available:  # known without loading anything: no spinner before the news
        model_missing_ui(status, needs_text(described), reason=missing_reason(described))
        return
    try:
        predictor = classifier(described)
    except ModelError as error:
        if described.learner_path().is_file():
            st.error(str(error), icon="🧨")  # a learner is there but broken: say so loudly
        else:
            model_missing_ui(status, needs_text(described), reason=str(error))
        return
    photos = photos_ui(described.name)
    if not photos:
        st.info(f"Take or upload a photo of a {described.noun}.", icon="👆")
    images = [image for _, image in photos]
    predictions = predictor.predict(images, top_k=5) if photos else []
    subjects = subject_answers(described, images)
    for n, ((name, image), prediction) in enumerate(zip(photos, predictions)):
        if n:
            st.divider()
        verdict_ui(prediction, described.noun, predictor.card, subject=subjects[n])
        st.plotly_chart(top_k_figure(prediction), width="stretch", key=f"{described.name}_top_{n}",
                        config={"displayModeBar": False})
        seen, extra = st.columns(2)
        seen.image(predictor.seen(image), caption=f"{as_text(name)}, as the model sees it", width="stretch")
        extra_ui(described, predictor, image, prediction, extra)
    if photos and described.subject and subjects[0] is None:
        st.caption(f"Any photo gets one of the page's answers: CLIP, which would say when a photo shows no "
                   f"{described.noun} at all, is not on this machine.")
    model_card_ui(predictor)


def subject_answers(described: Task, images: list[Image.Image]) -> list[SubjectAnswer | None]:
    """CLIP's "is this a {subject} at all?" for each photo, or None each where it cannot be asked."""
    try:
        check = subject_check(described) if images else None
    except ModelError:  # CLIP is there but unusable: the answer stands alone, as without CLIP
        check = None
    return check.check(images) if check is not None else [None] * len(images)


def extra_ui(described: Task, predictor: Predictor, image: Image.Image, prediction: Prediction, column) -> None:
    label = prediction[0][0]
    if described.extra == OXFORD_PHOTO:
        photo = flower_photo(label)
        if photo is not None:
            column.image(str(photo), caption=f"{label}, from the Oxford Flowers data set", width=240)
    elif described.extra == GRAD_CAM:
        heat = predictor.heat_map(image, label)
        if heat is not None:
            column.image(heat, width=240, caption=f"Where the model looked to say {label} (Grad-CAM)")
        else:
            column.caption("The heat map of where the model looked needs a trained learner.")


def lookalike_page_ui(described: Task) -> None:
    """Film-Star Lookalike: the face, the stars it looks like, and the top star beside it."""
    st.caption("Just for fun. Your photo is used for this answer only and is never stored.")
    gallery = star_gallery()
    learner = None
    if not gallery.stars:
        try:
            learner = classifier(described) if described.learner_path().is_file() else None
        except ModelError as error:
            st.error(str(error))
    if not gallery.stars and learner is None:
        model_missing_ui(learner_status(described), needs_text(described))
    else:
        for n, (name, image) in enumerate(photos_ui("stars")):
            if n:
                st.divider()
            try:
                face = face_embedder().one_face(image, name=name)
            except GiroError as error:
                st.error(as_text(str(error)), icon="🙈")
                continue
            if gallery.stars:
                gallery_match_ui(face, gallery)
            else:
                prediction = learner.predict([face.chip], top_k=5)[0]
                left, right = st.columns([1, 2])
                left.image(face.chip, caption="your face, aligned", width="stretch")
                verdict_ui(prediction, described.noun, learner.card, right)
                right.plotly_chart(top_k_figure(prediction), width="stretch", key=f"stars_{name}",
                                  config={"displayModeBar": False})
    add_star_ui(described)


def gallery_match_ui(face, gallery) -> None:
    """The words first, then you beside the star, then how far each of the nearest stars is."""
    matches = gallery.match(face, top_k=5)
    top = matches[0]
    st.markdown(f"You look most like **{as_text(top.star)}**: {likeness(top.distance)} "
                f"(face distance {top.distance:.2f}; under {SAME_PERSON} is usually the same person).")
    # One picture, not two columns: columns stack on a phone, and the star belongs beside you.
    side = max(face.chip.height, top.chip.height)
    pair = Image.new("RGB", (2 * side + 8, side), "white")
    pair.paste(face.chip.convert("RGB").resize((side, side)), (0, 0))
    pair.paste(top.chip.convert("RGB").resize((side, side)), (side + 8, 0))
    # A column to bound it on a desktop; on a phone the columns stack and it takes the screen's width.
    st.columns([2, 3])[0].image(pair, caption=f"you (left) and {as_text(top.star)}", width="stretch")
    st.plotly_chart(distance_figure(matches), width="stretch", key=f"match_{id(face)}",
                    config={"displayModeBar": False})
    if gallery.skipped:
        st.caption(f"{len(gallery.skipped)} gallery photos skipped (no single face).")


def add_star_ui(described: Task) -> None:
    """For the host only (GIRO_ADD_STARS): guests' photos are never stored."""
    if not common.allowed(settings.add_stars):
        return
    with st.expander("Add a star to the gallery (host)"):
        st.caption(f"Photos added here are stored on this server, in the star gallery's folder for "
                   f"that {described.noun}, until you delete them. At most {MAX_STAR_PHOTOS} photos a "
                   f"{described.noun}.")
        with st.form("add_star", clear_on_submit=True):
            name = st.text_input("Name", placeholder="Sophia Loren")
            photos = st.file_uploader("A few photos, one face each", type=list(EXTENSIONS),
                                      accept_multiple_files=True)
            if st.form_submit_button("Add"):
                try:
                    saved, problems = add_star(described.data_path(), name,
                                               [(p.name, p.getvalue()) for p in first_photos(photos or [])],
                                               face_embedder())
                except GiroError as error:
                    st.error(as_text(str(error)))
                    return
                added = (f"Added {saved} photo{'s' if saved > 1 else ''} of {as_text(' '.join(name.split()))}."
                         if saved else "")
                st.session_state.star_added = (added, [as_text(problem) for problem in problems])
                if saved:
                    st.rerun()  # from the top: the page above still says what it said before this star
        added, problems = st.session_state.pop("star_added", ("", []))
        for problem in problems:
            st.warning(problem)
        if added:
            st.success(added)
