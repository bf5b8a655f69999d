"""What members type into the search box about the seed content, each with the entries that answer it, and scoring.

Used by `benchmarks/relevance.py` (hit@1, hit@3 and MRR for words, meaning and both) and by
`tests/services/test_relevance_questions.py` (the same figures held above thresholds). Each
question names the slugs of the entries in `content/` that answer it, read from their text:
a result counts as a hit when it is any of them. All of them are visible to a signed-in member
without a panel seat, the reader both of those search as.

Three kinds, as members search:
- `question`: a question in plain words, filler and question words included;
- `paraphrase`: what an entry says, put in other words than the entry's own;
- `keyword`: a few words or a name, as a seasoned searcher types them.

`first_hit` and `scores` turn ranked slugs into hit@1, hit@3 and MRR. The module needs only
the standard library, so a benchmark can use it outside kb's own environment.
"""

from __future__ import annotations

from dataclasses import dataclass

QUESTION = "question"
PARAPHRASE = "paraphrase"
KEYWORD = "keyword"
KINDS = (QUESTION, PARAPHRASE, KEYWORD)

# The entries, by slug.
SHADOW = "blame-placed-on-shadow-ccgs"
BRISTOL = "bristol-gps-report-inappropriate-triage-responses"
SAY_NO = "clinical-leaders-need-to-say-no"
DAY_ONE = "contracts-awarded-to-providers-who-could-not-deliver"
BLIND = "fear-of-legal-challenge-led-to-blind-judging"
PENALTIES = "financial-penalties-do-not-help-patients"
MISSED = "go-live-deadline-missed-across-half-of-england"
GOOD_IDEA = "good-idea-badly-implemented"
NW_BID = "north-west-contract-won-on-cheaper-bid"
NW_FAILED = "north-west-service-failed-within-hours"
PAUSE = "pause-for-reflection-before-further-roll-out"
PILOTS = "pilot-feedback-not-properly-heard"
COST = "procurement-weighted-towards-cost"
PRESSED = "providers-pressed-to-go-live-before-ready"
TIMESCALE = "short-timescale-during-commissioning-reorganisation"
BACKGROUND = "nhs-111-go-live-background"
CRISIS = "nhs-alliance-crisis-meeting"
DISCUSSION = "nhs-alliance-discussion-paper"
COMMISSIONERS = "nhs-clinical-commissioners-response"
BOARD = "nhs-england-board-meeting-may-2013"
LESSONS_REVIEW = "nhs-111-programme-lessons-review"
SUSTAINABILITY = "nhs-111-sustainability-review"


@dataclass(frozen=True)
class Question:
    """What is typed, its kind, and the slugs of the entries that answer it (any one is a hit)."""

    text: str
    kind: str
    answers: tuple[str, ...]


def _q(text: str, *answers: str) -> Question:
    return Question(text, QUESTION, answers)


def _p(text: str, *answers: str) -> Question:
    return Question(text, PARAPHRASE, answers)


def _k(text: str, *answers: str) -> Question:
    return Question(text, KEYWORD, answers)


QUESTIONS: tuple[Question, ...] = (
    # Questions in plain words.
    _q("why did the North West service fail?", NW_FAILED, NW_BID),
    _q("was cost put ahead of quality in the tender", COST, NW_BID, DISCUSSION),
    _q("were local commissioners to blame for how 111 was bought?", SHADOW, COMMISSIONERS),
    _q("how could contracts go to providers that were not able to deliver the service?", DAY_ONE, BOARD),
    _q("did fining providers make the service any better for patients?", PENALTIES, BOARD),
    _q("what should commissioners do when a provider is failing?", PENALTIES),
    _q("how much of the country missed the April 2013 launch?", MISSED, BACKGROUND),
    _q("why were the bids judged blind?", BLIND),
    _q("what went wrong with the triage software?", BRISTOL),
    _q("were the warnings from the pilot sites listened to?", PILOTS),
    _q("were providers made to launch before they were ready?", PRESSED),
    _q("how long did commissioners have to design and buy the service?", TIMESCALE, BACKGROUND),
    _q("what did the NHS Alliance ask for after the launch?", PAUSE, DISCUSSION),
    _q("which reviews did the NHS England board agree to commission?", BOARD, LESSONS_REVIEW, SUSTAINABILITY),
    _q("why did NHS Direct leave the North West consortium?", NW_BID),
    _q("what were the two biggest factors in the failed launch?", DISCUSSION, PRESSED, COST),
    _q("is NHS 111 a bad idea in itself?", GOOD_IDEA),
    _q("did any areas do well with 111?", GOOD_IDEA),
    _q("what did the Department of Health say about the pressure to go live?", PRESSED, DISCUSSION),
    _q("who were providers still relying on a month after go-live?", MISSED, BACKGROUND),
    _q("should clinical leaders push back on what ministers demand?", SAY_NO),
    _q("why did the NHS Alliance hold a crisis meeting?", CRISIS, DISCUSSION),
    _q("what happened with the police and a palliative care patient in Bristol?", BRISTOL),
    _q("was the procurement more about avoiding being sued than about the service?", BLIND),
    _q("is the 111 service model sustainable for the future?", SUSTAINABILITY),
    _q("what part did the CCGs play while the service was being procured?", SHADOW, COMMISSIONERS, TIMESCALE),
    # The same things in other words than the entries'.
    _p("the cheapest bidder beat the local partnership", NW_BID),
    _p("price mattered more than the standard of care when suppliers were chosen", COST),
    _p("government rushed the rollout although providers were not prepared", PRESSED),
    _p("the helpline's start date slipped in many regions", MISSED, BACKGROUND),
    _p("the symptom checking computer sent police to a dying patient", BRISTOL),
    _p("evaluators scored tenders without using what they knew about the area", BLIND),
    _p("punishing suppliers with fines does not improve care", PENALTIES),
    _p("the new commissioning bodies were not properly formed when the service was bought", SHADOW, TIMESCALE),
    _p("trial areas warned of a disaster and nobody acted on it", PILOTS),
    _p("doctors who commission care must refuse orders from Whitehall", SAY_NO),
    _p("stop and learn before expanding the service to the rest of the country", PAUSE),
    _p("suppliers were handed contracts although they could not run the service from the start", DAY_ONE),
    _p("the phone line in the north west collapsed as soon as it opened", NW_FAILED),
    _p("the old helpline number had to keep taking the calls", MISSED, BACKGROUND),
    _p("a sound concept carried out poorly", GOOD_IDEA),
    _p("a tight deadline while the health service was being restructured", TIMESCALE, BACKGROUND),
    _p("a fixed budget for the contracts distorted how bids were scored", COST),
    _p("the ambulance trust and out-of-hours doctors planned to bid as one group", NW_BID),
    _p("unfair to blame local groups for a system imposed from the top", SHADOW, COMMISSIONERS),
    _p("the urgent care services should cooperate better with each other", PAUSE),
    _p("the board ordered an inquiry into what went wrong with the programme", LESSONS_REVIEW, BOARD),
    _p("keep helping a struggling supplier while lining up a replacement", PENALTIES),
    _p("members met urgently to talk about the troubled launch", CRISIS, DISCUSSION),
    # Keywords, as a seasoned searcher types them.
    _k("cost weighting tender", COST),
    _k("triage software safety", BRISTOL),
    _k("go live pressure", PRESSED),
    _k("golive deadline", MISSED, BACKGROUND),
    _k("legal challenge", BLIND),
    _k("financial penalties", PENALTIES),
    _k("shadow CCGs", SHADOW),
    _k("NHS Pathways", BRISTOL),
    _k("0845 NHS Direct", MISSED, BACKGROUND),
    _k("consortium bid North West", NW_BID),
    _k("pilot feedback", PILOTS),
    _k('"car crash"', PILOTS),
    _k("Rick Stern ministers", SAY_NO),
    _k("Hakin day one", DAY_ONE),
    _k("reorganisation timescale", TIMESCALE),
    _k("period of reflection", PAUSE),
    _k("sustainability review", SUSTAINABILITY),
    _k("programme lessons review", LESSONS_REVIEW),
    _k("crisis meeting", CRISIS),
    _k("Harmoni Bristol", BRISTOL),
    _k("set price", COST),
    _k("national specification PCTs", SHADOW, COMMISSIONERS),
    _k("good idea badly implemented", GOOD_IDEA),
    _k("failed within hours", NW_FAILED),
)


def first_hit(ranked: list[str], question: Question) -> int | None:
    """The 1-based place of the first answer among `ranked`, or None."""
    for place, slug in enumerate(ranked, start=1):
        if slug in question.answers:
            return place
    return None


@dataclass(frozen=True)
class Scores:
    """Hit@1, hit@3 and mean reciprocal rank over some questions."""

    questions: int
    hit1: float
    hit3: float
    mrr: float

    def __str__(self) -> str:
        return f"hit@1 {self.hit1:.2f}  hit@3 {self.hit3:.2f}  MRR {self.mrr:.2f}  (n={self.questions})"


def scores(places: list[int | None]) -> Scores:
    """Scores of the first-hit places of some questions."""
    count = len(places)
    if not count:
        return Scores(0, 0.0, 0.0, 0.0)
    return Scores(
        questions=count,
        hit1=sum(place == 1 for place in places) / count,
        hit3=sum(place is not None and place <= 3 for place in places) / count,
        mrr=sum(1.0 / place for place in places if place is not None) / count,
    )
