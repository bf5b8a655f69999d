"""Generated lessons from other NHS programmes, to sit beside the seed content in relevance measurements.

Each lesson is about one programme (an electronic patient record, a vaccination drive, a
stroke pathway, ...) in one made-up place, with one problem that programme ran into, written
in the four lesson sections the way members write them. Many share the seed content's
vocabulary (contracts, go-live, providers, commissioners, pressure, tenders) without being
about the NHS 111 launch, so a search has to find the right entry among plausible neighbours
rather than among nonsense. The same seed gives the same lessons.

Needs nothing beyond the standard library, so a benchmark can use it outside kb's own
environment; `tests.relevance.insert_distractors` writes them into a database.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

PROGRAMMES = (
    "electronic patient record",
    "e-prescribing system",
    "maternity continuity of carer model",
    "community mental health crisis service",
    "discharge to assess scheme",
    "ambulance handover improvement work",
    "bowel cancer screening extension",
    "flu vaccination campaign",
    "mass vaccination centre",
    "community diagnostic centre",
    "virtual ward",
    "social prescribing scheme",
    "urgent dental access scheme",
    "community pharmacy consultation service",
    "physician associate programme",
    "international nurse recruitment drive",
    "backlog maintenance programme",
    "theatre scheduling system",
    "patient-initiated follow-up scheme",
    "elective recovery programme",
    "children's autism assessment pathway",
    "learning disability health check programme",
    "hyperacute stroke unit reconfiguration",
    "pathology network merger",
    "teleradiology reporting contract",
    "non-emergency patient transport service",
    "wheelchair service",
    "talking therapies service",
    "eating disorder service for young people",
    "sexual health service",
    "health visiting service",
    "care home medicines review scheme",
    "frailty assessment unit",
    "falls prevention service",
    "shared care record",
    "GP online consultation system",
    "winter escalation plan",
    "emergency department streaming service",
    "same day emergency care unit",
    "hospital at home service",
)
PLACE_STARTS = (
    "ash brack bur chel dun elm fair gold hal hart kes lang mar nor oak pen ros sal thorn wal whit bram cal fen"
)
PLACE_ENDS = "ford ham ton by combe field wick bury minster bridge dale mouth stead worth ley"
BODIES = (
    "integrated care board",
    "acute trust",
    "community trust",
    "mental health trust",
    "primary care network",
    "GP federation",
    "ambulance trust",
    "local authority",
)
REGIONS = (
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)

# Each problem: (title, what happened, what was learned, what to do). `{p}` is the programme,
# `{place}` the place, `{body}` the organisation, `{n}` a count, `{percent}` a share, `{weeks}` a delay, `{m}` a month.
PROBLEMS = (
    (
        "staff were not trained before the {p} started",
        "The {p} started in {place} in {m} with fewer than {percent} per cent of the staff who would use it trained. "
        "Ward teams learned it on shift, and the first weeks saw long queues and paper workarounds.",
        "Training was planned as the last step rather than a condition of starting, so the start date held "
        "while readiness slipped.",
        "Make a training threshold part of the decision to start, and give teams protected time to learn.",
    ),
    (
        "records were lost when data moved into the {p}",
        "When the {body} in {place} moved its records into the {p}, about {n} records arrived incomplete, "
        "among them allergy and medication details that clinicians then had to check by hand.",
        "The migration was tested on a sample that left out the oldest and most complex records.",
        "Test a data migration on full copies of the records, and reconcile counts before switching over.",
    ),
    (
        "the {p} was launched without telling the public how to use it",
        "The {p} opened in {place} in {m}, but leaflets and local radio came weeks later. "
        "Few patients used it at first, and many still went to the emergency department.",
        "A service people do not know about does not change where they go.",
        "Plan how the public will hear of a service before it opens, and measure whether the message reached them.",
    ),
    (
        "recruitment for the {p} fell short by a third",
        "The {body} planned to fill {n} posts for the {p} but recruited about two thirds of them. "
        "Agency staff covered the gap at a higher cost, and rotas were published late.",
        "The workforce plan assumed a local supply of staff that other employers were competing for.",
        "Test workforce assumptions against the local labour market before committing to a start date.",
    ),
    (
        "the {p} could not exchange information with GP systems",
        "Clinicians using the {p} in {place} could not see GP records, and letters back to practices were "
        "sent on paper. About {n} letters a week were typed twice.",
        "Interoperability was left to a later phase, and the later phase was never funded.",
        "Make information exchange with primary care a requirement of the first phase, not an extra.",
    ),
    (
        "the {p} overspent its budget in its first year",
        "The {p} in {place} spent {percent} per cent more than planned in its first year, mainly on locum cover and "
        "equipment bought at short notice.",
        "The business case priced the steady state but not the cost of getting there.",
        "Budget for set-up and transition separately from running costs, with a contingency agreed by the board.",
    ),
    (
        "the supplier of the {p} delivered late",
        "The supplier contracted to deliver the {p} in {place} missed its milestones by {weeks} weeks, and the "
        "{body} had few remedies in the contract to draw on.",
        "The contract set out what was to be delivered but not what would happen if it came late.",
        "Write milestones, remedies and a fallback plan into contracts for critical systems.",
    ),
    (
        "no one owned the decisions about the {p}",
        "Three organisations in {place} each thought another was leading the {p}. Decisions waited for "
        "meetings, and a risk raised in {m} was not answered for months.",
        "Shared programmes need a single accountable owner for each decision.",
        "Agree a governance chart at the start, naming who decides what and how disputes are escalated.",
    ),
    (
        "waiting lists for the {p} were not checked before patients were moved",
        "When patients were moved onto the {p} in {place}, nobody checked the list first. About {n} people "
        "on it had already been seen elsewhere or had moved away, and others were missing.",
        "An unchecked list moves its errors into the new service.",
        "Validate waiting lists clinically and administratively before transferring them.",
    ),
    (
        "the {p} left out people in rural areas",
        "Uptake of the {p} in the rural parts of {place} was less than half that in the town. Patients without a car "
        "or good broadband could not reach it.",
        "The service was designed around the town centre and online access.",
        "Assess access for rural and digitally excluded people before choosing sites and channels.",
    ),
    (
        "handovers between teams in the {p} lost information",
        "Patients passed between the {p} and community teams in {place} often arrived without a care plan. "
        "Staff reported {n} incidents in six months where information was missing at handover.",
        "Each team had its own form and none was shared.",
        "Agree one handover record that travels with the patient, and audit it.",
    ),
    (
        "weekend cover for the {p} was never arranged",
        "The {p} in {place} ran Monday to Friday. At weekends patients were sent back to the emergency department, "
        "which undid much of the benefit.",
        "The service was funded for weekdays though demand did not stop at weekends.",
        "Model demand across the whole week and fund cover to match it.",
    ),
    (
        "the measures chosen for the {p} did not show whether it helped patients",
        "The {body} reported the number of contacts made by the {p} in {place} each month, but not whether "
        "patients recovered, were readmitted or were satisfied.",
        "Counting activity told the board how busy the service was, not whether it worked.",
        "Choose outcome measures with clinicians and patients before launch, and report them to the board.",
    ),
    (
        "the {p} was cut back when its pilot funding ended",
        "The {p} in {place} was funded as a two-year pilot. When the funding ended in {m}, no recurrent money had "
        "been agreed, and the service was reduced to a third of its size.",
        "A pilot without an agreed route to recurrent funding tends to end however well it does.",
        "Agree before a pilot starts what evidence would lead to recurrent funding, and who would pay.",
    ),
    (
        "the tender for the {p} attracted a single bidder",
        "Only one provider bid for the {p} contract in {place}. The {body} had little choice and limited "
        "leverage in negotiating the price and the service levels.",
        "Market engagement began after the specification was fixed, so few providers could shape it.",
        "Engage the market early, and test whether a specification can attract more than one credible bid.",
    ),
    (
        "the {p} went live three times before it worked",
        "The go-live date for the {p} in {place} was moved twice after failed tests, and the third start "
        "in {m} still needed a week of manual workarounds.",
        "Dates were set by the programme plan rather than by the results of testing.",
        "Set go-live criteria in advance and hold the date until they are met.",
    ),
    (
        "the {p} clinical safety case was written after launch",
        "The clinical safety case for the {p} in {place} was completed {weeks} weeks after it went live, after an "
        "incident in which a result was filed against the wrong patient.",
        "Safety assurance was treated as paperwork rather than as part of design.",
        "Complete the clinical safety case and hazard log before a digital system is used for patients.",
    ),
    (
        "sickness absence among staff of the {p} rose sharply",
        "Within a year of starting, sickness absence in the {p} team in {place} reached {percent} per cent. Staff "
        "described high caseloads and little supervision.",
        "Caseload limits and supervision were not built into the model.",
        "Set caseload limits and regular clinical supervision from the outset, and watch absence monthly.",
    ),
    (
        "patients were not asked about the design of the {p}",
        "The {p} in {place} was designed by managers and clinicians without patient involvement. Complaints "
        "in the first months were mostly about opening hours and how to get an appointment.",
        "The problems patients raised could have been found before launch by asking them.",
        "Involve patients and carers in the design, and test the service with them before it opens.",
    ),
    (
        "the {p} was paid by activity, which rewarded the wrong thing",
        "The contract for the {p} in {place} paid per contact. Contacts rose by {percent} per cent while outcomes "
        "did not change, and short follow-up calls multiplied.",
        "A payment by activity encouraged more contacts rather than better care.",
        "Tie part of the payment to outcomes agreed with commissioners.",
    ),
    (
        "winter demand overwhelmed the {p}",
        "In {m} the {p} in {place} received {percent} per cent more referrals than planned. Waiting times doubled "
        "and the service closed to new referrals for two weeks.",
        "The capacity plan used average demand and had no surge arrangements.",
        "Plan capacity for peak demand and agree in advance what is stopped when demand surges.",
    ),
    (
        "an IT outage stopped the {p} for two days",
        "A network failure took the {p} in {place} offline for two days in {m}. Paper back-up forms were out of "
        "date, and staff were unsure which process to follow.",
        "Business continuity plans existed but had never been rehearsed.",
        "Rehearse downtime procedures at least twice a year, and keep paper forms current.",
    ),
    (
        "equipment for the {p} arrived after the building was finished",
        "The new {p} building in {place} was ready in {m}, but scanners and furniture arrived {weeks} weeks later, "
        "and the service opened with half its rooms in use.",
        "Building and equipment were procured separately with no joint plan.",
        "Run estates and equipment procurement as one plan with shared milestones.",
    ),
    (
        "consent for sharing records in the {p} was misunderstood",
        "Staff in the {p} in {place} believed they needed written consent to share records with social care, and "
        "delayed about {n} referrals while forms were chased.",
        "Information governance guidance was unclear and no one checked how it was understood.",
        "Give staff plain guidance on the legal basis for sharing, and check it with a sample of cases.",
    ),
)
CONTEXT = (
    "The {body} had agreed the plan with its commissioners the year before, with a launch set for {m}.",
    "Board papers from the time describe the programme as a priority for the local system.",
    "Several providers took part, and each reported to a programme board that met monthly.",
    "The programme was one of several changes under way in {place} at the same time.",
    "National guidance had been published, but left much of the detail to local areas.",
    "Clinicians had raised some of these concerns in the planning meetings, and the minutes record them.",
    "A later review by the {body} looked at what happened and who had known about it.",
    "Staff side representatives were consulted, though late in the process.",
)
MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
FIRST_DAY = dt.date(2014, 1, 1)
DAYS = 10 * 365


def _place(rng: random.Random) -> str:
    return (rng.choice(PLACE_STARTS.split()) + rng.choice(PLACE_ENDS.split())).capitalize()


def distractor(rng: random.Random, number: int) -> dict[str, Any]:
    """One generated lesson: the entry's and the lesson's columns (without ids), and a slug unique to `number`."""
    programme = rng.choice(PROGRAMMES)
    place = _place(rng)
    title, happened, learned, advice = rng.choice(PROBLEMS)
    day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
    values = {
        "p": programme,
        "place": place,
        "body": f"{place} {rng.choice(BODIES)}",
        "n": rng.randint(12, 400),
        "percent": rng.randint(12, 60),
        "weeks": rng.randint(2, 30),
        "m": f"{rng.choice(MONTHS)} {day.year}",
    }
    heading = title.format(**values)
    created = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC) + dt.timedelta(days=rng.randint(10, 300))
    return {
        "slug": f"other-programme-{number}",
        "title": f"{place}: {heading[0].upper()}{heading[1:]}",
        "summary": f"{happened.format(**values).split('. ')[0].rstrip('.')}. {learned.format(**values)}",
        "region": rng.choice(REGIONS),
        "organisation": values["body"],
        "event_date": day,
        "created_at": created,
        "driving_event": " ".join([rng.choice(CONTEXT).format(**values), happened.format(**values)]),
        "lesson_text": f"{learned.format(**values)} Those involved in {place} said the same could happen elsewhere.",
        "recommendation": f"- {advice.format(**values)}\n- Share what was learned with other {programme}s.",
        "evidence": f"- The {values['body']}'s board papers and the programme's own review, {values['m']}.",
    }
