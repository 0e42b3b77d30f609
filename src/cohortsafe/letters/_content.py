"""The information letter for parents, in Dutch (B1) and English, as blocks to render.

Placeholders in braces are filled from :class:`~cohortsafe.letters.LetterFacts`:
{school}, {contact}, {deadline}, {period}, {domains}, {made_on}, {form_sentence}.
Blocks: ("h1" | "h2" | "p", text) or ("ul", [items]). Every sentence has at most
20 words (a test holds it to that); the wording is our own.
"""

from __future__ import annotations

Block = tuple[str, str | list[str]]

#: The delivered list, one item per group of columns (see COLUMN_PHRASES in the package).
NL_DELIVERED = [
    "de uitslagen van de toetsen voor {domains}: de toets, het moment, de score en het niveau;",
    "of uw kind naar een kinderdagverblijf, peuterspeelzaal of voorschool (VVE) ging;",
    "hoe lang dat was en hoeveel dagdelen per week;",
    "het burgerservicenummer of het onderwijsnummer;",
    "de geboortedatum en het geslacht;",
    "de postcode en het huisnummer (met toevoeging);",
    "de groep en de school.",
]
EN_DELIVERED = [
    "the results of the tests in {domains}: the test, the moment, the score and the level;",
    "whether your child went to a day nursery, playgroup or pre-school programme (VVE);",
    "how long that was and how many half-days a week;",
    "the citizen service number or the education number;",
    "the date of birth and the sex;",
    "the postcode and the house number (with any addition);",
    "the class and the school.",
]

NL: list[Block] = [
    ("h1", "Onderzoek naar onderwijs: wat {school} doorgeeft en waarom"),
    ("p", "Beste ouder of verzorger,"),
    (
        "p",
        "Op {school} volgen we de ontwikkeling van elk kind met toetsen. Het gaat om toetsen "
        "voor {domains}. De uitslagen bewaren we in ons leerlingvolgsysteem. Dat is het "
        "programma waarin we bijhouden hoe leerlingen vorderen. Zo stemmen we ons onderwijs af "
        "op uw kind en op de groep. We bewaken er ook de kwaliteit van onze school mee. En we "
        "leggen er verantwoording mee af aan de Inspectie van het Onderwijs.",
    ),
    ("h2", "Wat we doorgeven voor onderzoek"),
    (
        "p",
        "Elk jaar geven we een deel van deze gegevens door aan het Centraal Bureau voor de "
        "Statistiek (CBS). Dat doen we voor het Nationaal Cohortonderzoek Onderwijs (NCO). Dat "
        "onderzoek laat zien hoe kinderen zich door de jaren heen ontwikkelen. Het laat ook zien "
        "wat daarbij helpt. Het doel is beter onderwijs, op onze school en in het hele land. We "
        "geven dit door:",
    ),
    ("ul", NL_DELIVERED),
    (
        "p",
        "Het nummer, de geboortedatum, de postcode en het huisnummer dienen alleen om de "
        "gegevens van uw kind te koppelen. Zo zijn ze over de jaren te volgen. Namen en "
        "straatnamen geven we nooit door. Notities van leerkrachten en andere vrije tekst geven "
        "we ook nooit door.",
    ),
    ("h2", "Waarom we geen toestemming vragen"),
    (
        "p",
        "Gewone toetsuitslagen zijn geen bijzondere persoonsgegevens. Bijzondere "
        "persoonsgegevens zijn extra gevoelig, zoals gegevens over gezondheid. Toetsuitslagen "
        "gaan niet over gezondheid. De wet staat toe dat we ze gebruiken voor onderzoek in het "
        "algemeen belang. Daarom is uw toestemming hiervoor niet nodig. U mag wel bezwaar maken, "
        "zie hieronder.",
    ),
    (
        "p",
        "Soms heeft een onderzoek wel bijzondere persoonsgegevens nodig, zoals een diagnose "
        "dyslexie. Dan vragen we u eerst uitdrukkelijk toestemming voor dat onderzoek. Zonder uw "
        "toestemming geven we zulke gegevens niet door. U kunt uw toestemming altijd weer "
        "intrekken.",
    ),
    ("h2", "Wat het CBS ermee doet"),
    (
        "p",
        "Wij versleutelen de gegevens voordat ze de school verlaten. Alleen het CBS kan ze "
        "openen. Het CBS vervangt het nummer van uw kind door een code. Dat heet pseudonimiseren. "
        "Het CBS verwijdert de postcode en het huisnummer zodra de gegevens binnen zijn. Van de "
        "geboortedatum bewaart het CBS alleen de maand en het jaar.",
    ),
    (
        "p",
        "Onderzoekers van het NCO kunnen niet zien om welk kind het gaat. Zij werken alleen met "
        "gecodeerde gegevens, in een beveiligde omgeving van het CBS. Alles wat zij daar uit "
        "meenemen, wordt eerst gecontroleerd. Niets wat wordt gepubliceerd is terug te voeren op "
        "uw kind of op onze school.",
    ),
    (
        "p",
        "Het CBS werkt volgens de wet die voor het CBS geldt, de CBS-wet. Daarnaast heeft het "
        "CBS eigen strenge regels voor het omgaan met gegevens.",
    ),
    ("h2", "Bezwaar maken"),
    (
        "p",
        "U mag bezwaar maken tegen het doorgeven van de gegevens van uw kind. U hoeft daar geen "
        "reden voor te geven. Laat het ons weten via {contact}. Doe dat bij voorkeur vóór "
        "{deadline}. Dan verwerken we het vóór de levering over schooljaar {period}.",
    ),
    ("p", "{form_sentence}"),
    (
        "p",
        "Vanaf het moment dat we uw bezwaar hebben vastgelegd, geven we niets meer door over uw "
        "kind. Hebben we al eerder gegevens doorgegeven? Dan vragen we het CBS die te "
        "verwijderen. Het CBS zorgt er ook voor dat ze niet via een latere levering terugkomen. "
        "Een bezwaar heeft geen enkel gevolg voor het onderwijs aan uw kind. U kunt uw bezwaar "
        "later ook weer intrekken.",
    ),
    ("h2", "Meer lezen"),
    (
        "p",
        "Meer over het CBS leest u op www.cbs.nl. Meer over het onderzoek leest u op "
        "www.nationaalcohortonderzoek.nl.",
    ),
    ("p", "Met vriendelijke groet,"),
    ("p", "De directie van {school}"),
    ("p", "{place_date}"),
]

EN: list[Block] = [
    ("h1", "Research into education: what {school} passes on, and why"),
    ("p", "Dear parent or guardian,"),
    (
        "p",
        "At {school} we follow every child's progress with tests. These are tests in {domains}. "
        "We keep the results in our pupil tracking system. That is the program in which we "
        "record how pupils progress. It helps us match our teaching to your child and to the "
        "class. We also use it to look after the quality of our school. And we use it to account "
        "for our work to the Dutch Inspectorate of Education.",
    ),
    ("h2", "What we pass on for research"),
    (
        "p",
        "Each year we pass part of these data to Statistics Netherlands (CBS). We do this for "
        "the National Cohort Study on Education (NCO). The study shows how children develop "
        "over the years. It also shows what helps them. The aim is better education, in our "
        "school and in the whole country. We pass on:",
    ),
    ("ul", EN_DELIVERED),
    (
        "p",
        "The number, the date of birth, the postcode and the house number serve only to link "
        "your child's data. That way they can be followed over the years. We never pass on "
        "names or street names. We never pass on teachers' notes or other free text either.",
    ),
    ("h2", "Why we do not ask for consent"),
    (
        "p",
        "Ordinary test results are not special-category data. Special-category data are "
        "extra sensitive, such as data about health. Test results are not about health. The law "
        "allows us to use them for research in the public interest. That is why your consent "
        "is not needed for this. You may object, though: see below.",
    ),
    (
        "p",
        "Sometimes a study does need special-category data, such as a diagnosis of dyslexia. "
        "Then we will first ask for your explicit consent for that study. We pass on such data "
        "only if you have explicitly consented. You can withdraw your consent at any time.",
    ),
    ("h2", "What CBS does with them"),
    (
        "p",
        "We encrypt the data before they leave the school. Only CBS can open them. CBS replaces "
        "your child's number with a code. This is called pseudonymisation. CBS removes the "
        "postcode and the house number as soon as the data arrive. Of the date of birth, CBS "
        "keeps only the month and the year.",
    ),
    (
        "p",
        "NCO researchers cannot see which child it is. They work only with coded data, inside a "
        "secure CBS environment. Everything they take out is checked first. Nothing that is "
        "published can be traced back to your child or to our school.",
    ),
    (
        "p",
        "CBS works under the law that applies to it, the CBS Act (de CBS-wet). CBS also has its "
        "own strict rules for handling data.",
    ),
    ("h2", "Objecting"),
    (
        "p",
        "You may object to your child's data being passed on. You do not have to give a reason. "
        "Let us know through {contact}. Please do so before {deadline}. Then we can process it "
        "before the delivery for school year {period}.",
    ),
    ("p", "{form_sentence}"),
    (
        "p",
        "From the moment we have recorded your objection, we pass on nothing more about your "
        "child. Did we pass data on earlier? Then we ask CBS to delete them. CBS also makes sure "
        "they do not come back with a later delivery. Objecting has no consequences whatsoever "
        "for your child's education. You can also withdraw your objection later.",
    ),
    ("h2", "Read more"),
    (
        "p",
        "You can read more about CBS at www.cbs.nl. You can read more about the study at "
        "www.nationaalcohortonderzoek.nl.",
    ),
    ("p", "Kind regards,"),
    ("p", "The management of {school}"),
    ("p", "{place_date}"),
]

FORM_SENTENCE = {
    "nl": "U kunt ook het bezwaarformulier invullen op {form_url}.",
    "en": "You can also fill in the objection form at {form_url}.",
}

MADE_ON = {"nl": "Datum: {made_on}", "en": "Date: {made_on}"}

#: Dutch and English names of the delivered domains, per code.
DOMAIN_NAMES = {
    "nl": {
        "rekenen_wiskunde": "rekenen-wiskunde",
        "begrijpend_lezen": "begrijpend lezen",
        "spelling": "spelling",
    },
    "en": {
        "rekenen_wiskunde": "mathematics",
        "begrijpend_lezen": "reading comprehension",
        "spelling": "spelling",
    },
}
AND = {"nl": "en", "en": "and"}

CONTENT = {"nl": NL, "en": EN}
