"""The information letter for parents, in Dutch and English, as blocks to render.

Placeholders in braces are filled from :class:`~cohortsafe.letters.LetterFacts`.
Blocks: ("h1" | "h2" | "p", text) or ("ul", [items]).
"""

from __future__ import annotations

Block = tuple[str, str | list[str]]

NL: list[Block] = [
    ("h1", "Onderzoek naar onderwijs: wat {school} doorgeeft en waarom"),
    ("p", "Beste ouder of verzorger,"),
    (
        "p",
        "Op {school} volgen we de ontwikkeling van elk kind met toetsen, bijvoorbeeld voor "
        "begrijpend lezen, spelling en rekenen-wiskunde. De uitslagen bewaren we in ons "
        "leerlingvolgsysteem. We gebruiken ze om het onderwijs aan uw kind en aan de hele groep "
        "goed af te stemmen, om de kwaliteit van onze school te bewaken en om verantwoording af "
        "te leggen aan de Inspectie van het Onderwijs.",
    ),
    ("h2", "Wat we doorgeven voor onderzoek"),
    (
        "p",
        "Elk jaar geven we een klein deel van deze gegevens door aan het Centraal Bureau voor de "
        "Statistiek (CBS), voor het Nationaal Cohortonderzoek Onderwijs (NCO). Dat onderzoek laat "
        "zien hoe kinderen zich door de jaren heen ontwikkelen en wat daarbij helpt. Het gaat om:",
    ),
    (
        "ul",
        [
            "de uitslagen van de toetsen voor taal (begrijpend lezen en spelling) en "
            "rekenen-wiskunde;",
            "of uw kind naar een kinderdagverblijf, peuterspeelzaal of voorschool (VVE) ging, "
            "en hoe lang;",
            "de gegevens die nodig zijn om uw kind over de jaren te herkennen: het "
            "burgerservicenummer of onderwijsnummer, geboortedatum, geslacht, postcode en "
            "huisnummer, groep en school.",
        ],
    ),
    (
        "p",
        "Namen, adressen en notities van leerkrachten geven we nooit door. Gegevens over "
        "gezondheid of een diagnose (zoals dyslexie) geven we alleen door als u daar voor een "
        "bepaald onderzoek uitdrukkelijk toestemming voor hebt gegeven. Die toestemming kunt u "
        "altijd weer intrekken.",
    ),
    ("h2", "Wat het CBS ermee doet"),
    (
        "p",
        "Wij versleutelen de gegevens voordat ze de school verlaten; alleen het CBS kan ze "
        "openen. Het CBS vervangt het burgerservicenummer en de andere herkenbare gegevens door "
        "een code (pseudonimiseren) en verwijdert de geboortedatum, postcode en het huisnummer. "
        "Onderzoekers werken alleen met deze gecodeerde gegevens, in een beveiligde omgeving van "
        "het CBS. Alles wat zij daar uit meenemen wordt eerst gecontroleerd. Niets wat wordt "
        "gepubliceerd is terug te voeren op uw kind of op onze school.",
    ),
    ("h2", "Bezwaar maken"),
    (
        "p",
        "U mag bezwaar maken tegen het doorgeven van de gegevens van uw kind. U hoeft daar geen "
        "reden voor te geven. Laat het ons weten via {contact}. Doe dat bij voorkeur vóór "
        "{deadline}, zodat we het kunnen verwerken vóór de levering van dit schooljaar.",
    ),
    ("p", "{form_sentence}"),
    (
        "p",
        "Vanaf het moment dat we uw bezwaar hebben vastgelegd, geven we geen gegevens van uw kind "
        "meer door. Hebben we eerder al gegevens doorgegeven, dan vragen we het CBS die te "
        "verwijderen; het CBS zorgt er ook voor dat ze niet via een latere levering terugkomen. "
        "Een bezwaar heeft geen enkel gevolg voor het onderwijs aan uw kind. U kunt uw bezwaar "
        "later ook weer intrekken.",
    ),
    ("p", "Met vriendelijke groet,"),
    ("p", "{school}"),
]

EN: list[Block] = [
    ("h1", "Research into education: what {school} passes on, and why"),
    ("p", "Dear parent or guardian,"),
    (
        "p",
        "At {school} we follow every child's progress with tests, for example in reading "
        "comprehension, spelling and mathematics. We keep the results in our pupil tracking "
        "system. We use them to match our teaching to your child and to the whole class, to look "
        "after the quality of our school, and to account for it to the Dutch Inspectorate of "
        "Education.",
    ),
    ("h2", "What we pass on for research"),
    (
        "p",
        "Each year we pass a small part of these data to Statistics Netherlands (CBS) for the "
        "National Cohort Study on Education (NCO). The study shows how children develop over the "
        "years and what helps them. It concerns:",
    ),
    (
        "ul",
        [
            "the results of the tests in language (reading comprehension and spelling) and "
            "mathematics;",
            "whether your child went to a day nursery, playgroup or pre-school programme (VVE), "
            "and for how long;",
            "what is needed to recognise your child over the years: the citizen service number or "
            "education number, date of birth, sex, postcode and house number, class and school.",
        ],
    ),
    (
        "p",
        "We never pass on names, addresses or teachers' notes. Data about health or a diagnosis "
        "(such as dyslexia) are passed on only if you have explicitly consented for a particular "
        "study. You can withdraw that consent at any time.",
    ),
    ("h2", "What CBS does with them"),
    (
        "p",
        "We encrypt the data before they leave the school; only CBS can open them. CBS replaces "
        "the citizen service number and the other identifying data with a code (pseudonymisation) "
        "and removes the date of birth, postcode and house number. Researchers work only with "
        "these coded data, inside a secure CBS environment, and everything they take out is "
        "checked first. Nothing that is published can be traced back to your child or to our "
        "school.",
    ),
    ("h2", "Objecting"),
    (
        "p",
        "You may object to your child's data being passed on. You do not have to give a reason. "
        "Let us know through {contact}. Please do so before {deadline}, so that we can process it "
        "before this school year's delivery.",
    ),
    ("p", "{form_sentence}"),
    (
        "p",
        "From the moment we have recorded your objection, we pass on no more data about your "
        "child. If we passed data on earlier, we ask CBS to delete them, and CBS makes sure they "
        "do not come back with a later delivery. Objecting has no consequences whatsoever for "
        "your child's education. You can also withdraw your objection later.",
    ),
    ("p", "Kind regards,"),
    ("p", "{school}"),
]

FORM_SENTENCE = {
    "nl": "U kunt ook het bezwaarformulier invullen op {form_url}.",
    "en": "You can also fill in the objection form at {form_url}.",
}

CONTENT = {"nl": NL, "en": EN}
