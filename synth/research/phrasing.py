"""The one phrasing layer every research tier writes its thoughts with.

Why one layer: a trainer fed these traces learns whatever is easiest to predict. If the expert
said "open it" and the noisy researcher "looks like the page on", a reward model would learn
the phrase instead of the reasoning, and if each step type had one sentence an SFT model would
learn the sentence. So expert, reflective, noisy and random researchers draw every sentence
from the same seeded :class:`Voice`: several wordings per step type, composed from independent
slots (what was just seen, what it means, what to do next), with the words of the relation or
attribute at hand. A tier differs only in what it believes and does, never in how it says it.

Sentences never start with a name (names are masked for the realism measures; a sentence-initial
name would look distinct while the template is the same), and every name a thought uses is one
the agent has seen: in the question or in an earlier observation.
"""

from __future__ import annotations

import random

from synth.research.world import ATTRIBUTES, RELATIONS

#: predicate -> what is asked ("where {x} was born"), as plan steps and purposes say it
ASKING = {
    "born_in": "where {x} was born", "works_for": "which organisation {x} works for",
    "founded_by": "who founded {x}", "headquartered_in": "where {x} is headquartered",
    "located_in": "which country {x} is in", "written_by": "who wrote {x}",
    "published_by": "who published {x}", "held_in": "where {x} was held", "organised_by": "who organised {x}",
    "birth_year": "when {x} was born", "founded_year": "when {x} was founded", "population": "the population of {x}",
    "publication_year": "when {x} was published", "event_year": "when {x} took place",
    "attendance": "how many visitors {x} drew", "occupation": "what {x} does for a living",
    "role": "the role of {x}", "industry": "the industry of {x}", "settlement": "what kind of city {x} is",
    "genre": "the genre of {x}", "event_type": "what kind of event {x} was",
}
#: predicate -> the noun for its object or value ("the birthplace")
NOUN = {
    "born_in": "birthplace", "works_for": "employer", "founded_by": "founder", "headquartered_in": "headquarters city",
    "located_in": "country", "written_by": "author", "published_by": "publisher", "held_in": "host city",
    "organised_by": "organiser", "birth_year": "birth year", "founded_year": "founding year",
    "population": "population", "publication_year": "publication year", "event_year": "year",
    "attendance": "attendance", "occupation": "occupation", "role": "role", "industry": "industry",
    "settlement": "kind of city", "genre": "genre", "event_type": "kind of event",
}
#: predicate -> ways to state a fact ("{x} was born in {y}")
STATE = {
    "born_in": ("{x} was born in {y}", "{x} is a native of {y}", "{y} is the birthplace of {x}", "{x} comes from {y}"),
    "works_for": ("{x} works for {y}", "{x} is employed by {y}", "{y} is the employer of {x}", "{x} is on the staff of {y}", "{x} has a job at {y}"),
    "founded_by": ("{x} was founded by {y}", "{y} founded {x}", "{y} is the founder of {x}", "{y} set up {x}"),
    "headquartered_in": ("{x} is headquartered in {y}", "{x} has its headquarters in {y}", "{x} is based in {y}", "{x} has its seat in {y}"),
    "located_in": ("{x} lies in {y}", "{x} is in {y}", "{y} is the country of {x}", "{x} belongs to {y}"),
    "written_by": ("{x} was written by {y}", "{y} wrote {x}", "{y} is the author of {x}", "{x} is a work by {y}"),
    "published_by": ("{x} was published by {y}", "{y} published {x}", "{y} is the publisher of {x}", "{x} came out with {y}"),
    "held_in": ("{x} was held in {y}", "{x} took place in {y}", "{y} is the host city of {x}", "{y} hosted {x}"),
    "organised_by": ("{x} was organised by {y}", "{y} organised {x}", "{y} is the organiser of {x}", "{x} was run by {y}"),
    "birth_year": ("{x} was born in {y}", "{y} is the birth year of {x}", "{x} was born in the year {y}"),
    "founded_year": ("{x} was founded in {y}", "{x} dates back to {y}", "{y} is the founding year of {x}"),
    "population": ("{x} has about {y} inhabitants", "{x} counts about {y} residents", "about {y} people live in {x}"),
    "publication_year": ("{x} first appeared in {y}", "{x} was first published in {y}", "{y} is the publication year of {x}"),
    "event_year": ("{x} took place in {y}", "{x} happened in {y}", "{y} is the year of {x}"),
    "attendance": ("{x} drew about {y} visitors", "about {y} people attended {x}", "the attendance of {x} was about {y}"),
    "occupation": ("{x} works as: {y}", "{y} is the occupation of {x}"),
    "role": ("{x} holds the role: {y}", "{y} is the role of {x}"),
    "industry": ("{x} is in the {y} business", "{y} is the industry of {x}"),
    "settlement": ("{x} is a {y} city", "the kind of city {x} is: {y}"),
    "genre": ("{x} is of the genre: {y}", "{y} is the genre of {x}"),
    "event_type": ("{x} was of the kind: {y}", "the kind of event {x} was: {y}"),
}
#: relation -> what its object's listing gives ("who was born in {x}")
LISTING = {
    "born_in": "who was born in {x}", "works_for": "who works for {x}", "founded_by": "what {x} founded",
    "headquartered_in": "what is headquartered in {x}", "located_in": "which cities are in {x}",
    "written_by": "what {x} wrote", "published_by": "what {x} published", "held_in": "what was held in {x}",
    "organised_by": "what {x} organised",
}
THAT = {"person": "that person", "organisation": "that organisation", "place": "that place",
        "work": "that work", "event": "that event"}
KIND_NOUN = {"person": "person", "organisation": "organisation", "place": "place", "work": "work", "event": "event"}

assert set(ASKING) == set(NOUN) == set(STATE) == {*RELATIONS, *ATTRIBUTES}


class Voice:
    """Seeded wordings. Each method returns one sentence (or clause) of a step type; the choice
    among wordings is drawn from the episode's rng, the same way for every tier."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._cite: int | None = None

    def pick(self, *options: str) -> str:
        return self.rng.choice(options)

    # ------------------------------------------------------------------ planning

    def plan(self, steps: list[str]) -> str:
        """The opening plan over the question's sub-questions."""
        r = self.rng
        style = r.randrange(5)
        if style == 0:
            body = "; ".join(f"({i}) {s}" for i, s in enumerate(steps, 1))
        elif style == 1:
            body = ", ".join(f"{i}) {s}" for i, s in enumerate(steps, 1))
        elif style == 2:
            body = ", then ".join(steps) if len(steps) < 3 else \
                ", ".join(steps[:-1]) + ", and finally " + steps[-1]
        elif style == 3:
            body = "; ".join(f"step {i}: {s}" for i, s in enumerate(steps, 1))
        else:
            body = " -> ".join(steps)
        head = self.pick("Plan: ", "Steps: ", "To answer this I need to know ", "Working plan: ",
                         "This breaks down as ", "What I need, in order: ", "Approach: ")
        return f"{head}{body}."

    # ------------------------------------------------------------------ searching

    def _next(self, first: bool) -> str:
        if first:
            return self.pick("First, ", "To start, ", "", "Begin: ")
        return self.pick("Next, ", "Now ", "", "Then ", "Moving on: ")

    def search(self, x: str, purpose: str | None, first: bool = False) -> str:
        """Searching for an entity by its name (``x``), for ``purpose`` (a plan step)."""
        verb = self.pick("search for {x}", "look up {x}", "run a search for {x}", "query the encyclopedia for {x}",
                         "find the page on {x} with a search", "search the name {x}").format(x=x)
        why = "" if purpose is None or self.rng.random() < 0.35 else self.pick(
            ", to learn {p}", " ({p})", "; the aim is {p}", ", since the next step is {p}").format(p=purpose)
        return _cap(self._next(first) + verb + why + ".")

    def search_words(self, words: str, what: str, first: bool = False) -> str:
        """Searching for a described entity by the words of its description."""
        verb = self.pick("search the description's words", "search for its key facts",
                         "look it up by its description", "put the description's words into a search")
        return _cap(self._next(first) + f"{verb}, to identify {what}.")

    def reformulate(self, x: str) -> str:
        reason = self.pick("{x} is not among these results", "none of these results is the page on {x}",
                           "no result here matches {x}", "these results miss {x}",
                           "the page on {x} did not come up").format(x=x)
        act = self.pick("try another wording", "reformulate the query", "search again with different words",
                        "rephrase and search again")
        return _cap(f"{reason}; {act}.")

    # ------------------------------------------------------------------ opening

    def where(self, rank: int | None, query: str | None, title: str, docid: str, name_it: bool = True) -> str:
        """How a thought refers to a result about to be opened."""
        if rank is None:
            return f"the page {title} ({docid})" if name_it else f"the page {docid}"
        if not name_it:
            return self.pick(f"result [{rank}] ({docid})", f"the hit at [{rank}] ({docid})",
                             f"the entry ranked [{rank}] ({docid})", f"hit number [{rank}] ({docid})")
        return self.pick(f'result [{rank}] of "{query}", {title} ({docid}),', f"result [{rank}], {title} ({docid}),",
                         f"the entry at [{rank}], {title} ({docid}),", f"the hit at [{rank}], {title} ({docid}),",
                         f"hit number [{rank}], {title} ({docid}),", f"the listing {title} ({docid}) at [{rank}]")

    def open(self, where: str, x: str, purpose: str | None) -> str:
        """Opening the page believed to be about ``x``."""
        claim = self.pick("is the page on {x}", "is the article on {x}", "should be the page on {x}",
                          "is the entry for {x}", "matches {x}", "looks like the page on {x}").format(x=x)
        act = self.pick("open it", "open it", "read it", "open that page", "open it and read")
        why = "" if purpose is None or self.rng.random() < 0.4 else self.pick(
            " for {p}", " to see {p}", ", looking for {p}").format(p=purpose)
        return _cap(f"{where} {claim}; {act}{why}.")

    def open_url(self, x: str) -> str:
        return self.pick("The exact name is known: go straight to the page on {x} by its address.",
                         "Its name is known, so open the page on {x} directly by url.",
                         "No need to search: open the page on {x} by its address.",
                         "Open the page on {x} by url.").format(x=x)

    # ------------------------------------------------------------------ reading

    def page_seen(self, title: str, n: int, first: int, last: int, headings: list[str]) -> str:
        """What an opened page's screen shows, before reading it closely ('' about a third of
        the time)."""
        more = n > last + 1
        options = [f"The page on {title} has {n} lines.", f"The page is open, lines {first}-{last} of {n}.",
                   f"{n} lines in all" + (", more than one screen." if more else ", all on this screen."),
                   f"The article runs to {n} lines" + ("; the fact may be further down." if more else "."),
                   "", ""]
        if headings:
            options.append(f"On screen: the sections {self.join(headings)}.")
            options.append(f"The first screen shows {self.join(headings)}.")
        return self.pick(*options)

    def find(self, pattern: str, purpose: str) -> str:
        return self.pick("Find '{k}' to see {p}.", "Search the page for '{k}' ({p}).",
                         "Use find with '{k}' to get {p}.", "'{k}' should locate {p}; find it.",
                         "Look for '{k}' on this page: {p}.", "A find for '{k}' should show {p}.",
                         "Rather than read it all, find '{k}' for {p}.", "To get {p}, find '{k}'.").format(
            k=pattern, p=purpose)

    def cite(self, docid: str, line: int, text: str) -> str:
        """A quoted line with its source, as the start of a sentence (docids are never
        capitalised: they are exact strings). The form is a habit of the episode, drawn once:
        a writer cites the same way throughout, and a form repeated in every step of one
        tier's episodes would set it apart from a tier that cites once."""
        if self._cite is None:
            self._cite = self.rng.randrange(5)
        return (f'L{line} of {docid} reads "{text}"', f'At {docid} L{line}: "{text}"',
                f'The match is {docid} L{line}, "{text}"', f'On {docid}, L{line} says "{text}"',
                f'Line {line} of {docid} says "{text}"')[self._cite]

    def others(self, lines: list[int]) -> str:
        """An aside on the other matching lines (about something else)."""
        if not lines:
            return ""
        shown = ", ".join(f"L{i}" for i in lines)
        if len(lines) == 1:
            return " " + self.pick(f"({shown} is about something else.)", f"{shown} also matches but concerns another entity.",
                                   f"(The other match, {shown}, is about someone else.)",
                                   f"{shown} mentions the phrase for a different subject.")
        return " " + self.pick(f"({shown} are about something else.)", f"The other matches, {shown}, concern other entities.",
                               f"{shown} use the phrase about others.", f"(Ignore {shown}: other subjects.)")

    def conclude(self, predicate: str, x: str, y: str) -> str:
        """What a read establishes: ``predicate`` of ``x`` is ``y``."""
        stated = self.pick(*STATE[predicate]).format(x=x, y=y)
        return " " + self.pick(f"So {stated}.", f"That settles it: {stated}.", f"This says {stated}.",
                               f"Established: {stated}.", f"So the {NOUN[predicate]} is {y}.",
                               f"Good, {stated}.")

    def found_above(self, cite: str) -> str:
        return self.pick(f"{cite}, as found above.", f"Already matched above. {cite}.", f"{cite} (seen earlier).")

    def namesake_check(self, x: str, seen: str | None) -> str:
        """Checking that the open page is about ``x`` and not a similarly named entity."""
        if seen is not None:
            return self.pick(f"The results also showed {seen}, a nearly identical name; check that this page is about {x}.",
                             f"With {seen} in the results, make sure this is really the page on {x}.",
                             f"The results also list {seen}, so confirm the page is about {x}.",
                             f"{seen} looked very similar in the results; does this page keep the two apart?",
                             f"Before reading on, rule out a mix-up with {seen}, listed too.",
                             f"Is this {x} and not {seen}? Look for the page's note on the name.")
        return self.pick("Check whether this page warns about a similarly named entity.",
                         "Make sure no similarly named entity is being confused here.",
                         f"Confirm that this page is about {x} and no namesake.")

    def namesake_ok(self, cite: str, x: str) -> str:
        return _cap(self.pick(f"{cite}: this is the page on {x} itself.", f"{cite}, so the page is about {x}, not the other one.",
                              f"{cite}; good, this is {x}."))

    def listed(self, docid: str, names: str) -> str:
        return _cap(self.pick(f"the list on {docid} names {names}.", f"{docid} lists {names}.",
                              f"listed on {docid}: {names}.", f"the entries on {docid} are {names}."))

    def count(self, n: int) -> str:
        return " " + self.pick(f"That is {n} in all.", f"{n} entries, then.", f"So the count is {n}.",
                               f"Counting them gives {n}.")

    def listing_find(self, pattern: str, what: str) -> str:
        return self.pick("Find '{k}' to list {w}.", "'{k}' should pick out the listing of {w}.",
                         "Search the page for '{k}' to see {w}.", "List {w} with a find for '{k}'.").format(k=pattern, w=what)

    def compare(self, a: str, va: str, b: str, vb: str, smaller: bool, winner: str) -> str:
        side = "smaller" if smaller else "larger"
        return " " + self.pick(f"For {a}: {va}; for {b}: {vb}. The {side} value wins: {winner}.",
                               f"Comparing {va} for {a} with {vb} for {b}, the {side} one is {winner}'s.",
                               f"So it is {va} against {vb}; the {side} belongs to {winner}.",
                               f"With {va} ({a}) and {vb} ({b}), the answer is {winner}.")

    def common(self, name: str | None, guess: str) -> str:
        if name is not None:
            return " " + self.pick(f"The one name on both lists is {name}.", f"Only {name} appears on both lists.",
                                   f"Both lists share one entry: {name}.")
        return " " + self.pick(f"No name is on both lists; guess {guess}.", f"The lists share nobody; go with {guess}.")

    def answer(self, sources: list[str], answer: str) -> str:
        """The final thought: the answer and the lines it rests on."""
        cites = self.join(list(dict.fromkeys(sources)))
        if not cites:
            return self.pick(f"Answer: {answer}.", f"Going with {answer}.", f"My answer is {answer}.")
        return self.pick(f"Evidence: {cites}. Answer: {answer}.", f"Sources: {cites}. The answer is {answer}.",
                         f"From {cites}, the answer is {answer}.", f"Putting it together ({cites}): {answer}.",
                         f"The answer, resting on {cites}, is {answer}.")

    def join(self, items: list[str]) -> str:
        if len(items) < 2:
            return "".join(items)
        sep = self.pick("; ", ", ", " / ")
        last = self.pick(sep, " and ", sep)
        return sep.join(items[:-1]) + last + items[-1]

    def summarize(self, calls: int) -> str:
        return self.pick(f"{calls} tool calls so far: condense what I know before going on.",
                         f"After {calls} calls, summarise the facts found so far.",
                         f"Time to consolidate: {calls} tool calls in.",
                         f"Summarise what is established after {calls} calls.")

    # ------------------------------------------------------------------ mistakes and catches

    def open_snippet(self, where: str, x: str, noun: str) -> str:
        """Opening a result because its snippet states ``x``'s ``noun``."""
        return _cap(self.pick(f"the snippet of {where} gives the {noun} of {x}; open it to read the line.",
                              f"{where} has a snippet with the {noun} of {x}; open it.",
                              f"{where} mentions the {noun} of {x} in its snippet; read that page."))

    def corroborate(self, x: str) -> str:
        return " " + self.pick(f"That is a passing mention on another page, though; confirm it on the article on {x}.",
                               f"A mention elsewhere is weaker than the entity's own article; check the page on {x}.",
                               f"Before relying on it, check what the page on {x} itself says.")

    def conflict_resolved(self, docid: str, x: str, value: str) -> str:
        return " " + self.pick(f"That disagrees with the mention on {docid}; the article on {x} is the better source, so {value} stands.",
                               f"The passing mention on {docid} was wrong: the page on {x} itself says {value}.",
                               f"So the figure on {docid} is a misstatement; go with {value} from the article itself.")

    def wrong_header(self, title: str, x: str, namesake: bool) -> str:
        """Seeing from the page header that the page opened is not about ``x``."""
        what = "a near-namesake" if namesake else "a different entity"
        return _cap(self.pick(f"the header reads {title}, not {x}: {what}. Back to the results for the right page.",
                              f"wait, this page is {title}, {what}, not {x}. Find the page on {x} instead.",
                              f"this is {title}, not {x}; I misread the result. Go back and open the page on {x}."))

    def wrong_subject(self, title: str, x: str, namesake: bool) -> str:
        """Seeing from the line read that it is about another entity than ``x``."""
        what = "its near-namesake" if namesake else "another entity"
        return " " + self.pick(f"But that line is about {title}, {what}, not {x}; it does not apply. Back to {x}.",
                               f"Hold on: the page is {title}, not {x}, so this fact is about {what}. Look for the page on {x}.",
                               f"The subject here is {title} ({what}), not {x}; discard it and find the right page.")

    def look_for(self, key: str, page: str) -> str:
        return self.pick(f"Check that the page on {page} connects to '{key}' at all: find '{key}'.",
                         f"If this is right, the page on {page} should mention '{key}'; find it.",
                         f"Find '{key}' here to confirm the link.",
                         f"Does the page on {page} mention '{key}'? A find will tell.",
                         f"Before going on, confirm that '{key}' appears on the page on {page}.",
                         f"The page on {page} ought to name '{key}' if I am on the right track; search it.",
                         f"Quick check: '{key}' should be somewhere on this page about {page}.")

    def misread_caught(self, page: str, x: str, line: int, other: str) -> str:
        return _cap(self.pick(f"nothing on the page on {page} mentions {x}. Re-reading L{line}: it is about {other}, not {x}.",
                              f"the page on {page} never names {x}, so L{line} must have been misread: its subject is {other}.",
                              f"no sign of {x} here. L{line} was about {other}; I took it for {x}'s own fact.",
                              f"{x} does not appear on the page on {page}. Looking at L{line} again, its subject is {other}.",
                              f"the page on {page} has nothing on {x}; L{line} spoke of {other}, and I misread it."))

    # ------------------------------------------------------------------ the long tail's follow-ups

    def lt_namesake(self, name: str, mine: str) -> str:
        return self.pick(f"The results include {name}, a near-namesake of {mine}; search it to see how they differ.",
                         f"With {name} so close to {mine}, look it up to keep the two apart.",
                         f"Search {name} as well: the name is nearly that of {mine}.")

    def lt_namesake_seen(self, name: str, text: str, mine: str) -> str:
        return self.pick(f'Its snippet: "{text}" That is a different entity from {mine}.',
                         f'The page on {name} opens with "{text}", so it is not {mine}.',
                         f'"{text}": a separate entry, not {mine}.')

    def lt_note(self, mine: str) -> str:
        return self.pick(f"Look for the page's own warning about the similar name of {mine}.",
                         "Find the note on names that are easy to confuse.",
                         f"Check this page's note distinguishing {mine} from the near-namesake.")

    def lt_note_seen(self, cite: str) -> str:
        return _cap(self.pick(f"{cite}: the page itself keeps them apart.", f"{cite}, as expected.",
                              f"{cite}; the two are distinct."))

    def lt_conflict(self, rank: int, x: str, noun: str, wrong: str, page: str) -> str:
        return self.pick(f"The snippet of result [{rank}] gives the {noun} of {x} as {wrong}; check it on the page on {page}, "
                         "which lists it too.",
                         f"Result [{rank}] puts the {noun} of {x} at {wrong}. A third source settles it: the page on {page}.",
                         f"One snippet says {wrong} for the {noun} of {x}; see what the page on {page} says.")

    def lt_confirmed(self, cite: str) -> str:
        return _cap(self.pick(f"{cite}: consistent with what I have.", f"{cite}, which agrees.",
                              f"{cite}; confirmed from a second page.", f"{cite} - it matches."))

    def lt_mention(self, where: str, name: str) -> str:
        return _cap(self.pick(f"{where} names {name} in its snippet; see what that page says about it.",
                              f"{where} mentions {name}: read that mention too.",
                              f"Another page, {where} mentions {name}; open it."))

    def lt_mention_seen(self, cite: str, name: str) -> str:
        return self.pick(f"{cite}: nothing that contradicts what I have on {name}.", f"{cite}; consistent.",
                         f"{cite}. A passing mention, in line with the rest.")

    def lt_candidate(self, where: str) -> str:
        return _cap(self.pick(f"{where} partly fits the description; open it to rule it in or out.",
                              f"{where} could also be the one described; check it.",
                              f"{where} shares some of the description; read its first lines."))

    def lt_candidate_no(self, cite: str) -> str:
        return _cap(self.pick(f"{cite}: not a full match for the description.", f"{cite}, so it does not fit every part.",
                              f"{cite}; ruled out."))

    def lt_read_on(self, title: str, n: int, at: int) -> str:
        return self.pick(f"The page on {title} runs to {n} lines; read on from L{at} for anything bearing on the question.",
                         f"More of the page on {title} is below L{at}; read it too.",
                         f"Scroll on from L{at} (of {n}) of the page on {title} in case a later section matters.",
                         f"Keep reading the page on {title} from L{at}: {n} lines in all.")

    def lt_read_on_seen(self) -> str:
        return self.pick("Nothing there changes the picture.", "Those lines add nothing the question needs.",
                         "No new facts for the question on this screen.", "Background only.")

    def lt_alias(self, alias: str, name: str) -> str:
        return self.pick(f"The lead line also names {alias}; search that form, other pages may use it.",
                         f"Search the fuller name {alias} as well, in case sources use it for {name}.",
                         f"Other pages might cite {name} as {alias}: search it.")

    def lt_results(self, n: int, own_first: bool) -> str:
        if own_first:
            return self.pick("Only the same page tops that list.", "The page already read comes first; nothing new.",
                             "Same entry first; no other source uses it prominently.")
        return self.pick(f"{n} results, none adding to what is known.", "Nothing in those results changes anything.",
                         "No new source there.")

    def lt_context(self, hit: int, phrase: str, name: str) -> str:
        return self.pick(f"L{hit} also matched '{phrase}'; read it in context to be sure it is not about {name}.",
                         f"Read the lines around L{hit}, the other match, to be sure of its subject.",
                         f"Check L{hit} in context: does it concern {name}?")

    def lt_context_seen(self, hit: int, subject: str | None, name: str) -> str:
        if subject is None:
            return self.pick(f"L{hit} is about something else.", f"L{hit} does not concern {name}.")
        return self.pick(f"L{hit} is about {subject}, not {name}.", f"In context, L{hit} concerns {subject}.",
                         f"The subject of L{hit} is {subject}; it does not apply to {name}.",
                         f"L{hit} speaks of {subject}, so it says nothing about {name}.",
                         f"Read in full, L{hit} is a fact of {subject}'s.")

    def lt_cross_open(self, page: str, name: str, noun: str) -> str:
        return self.pick(f"Confirm it from the other side: the page on {page} should give it in its {noun}.",
                         f"A second source: open the page on {page}, which should mention {name}.",
                         f"Cross-check on the page on {page}.")

    def lt_cross_find(self, key: str, name: str) -> str:
        return self.pick(f"Find '{key}' on it.", f"Look for '{key}' here.", f"Where does this page mention {name}? Find '{key}'.")

    def lt_member_open(self, member: str, owner: str) -> str:
        return self.pick(f"Check the listed entry {member} on its own page.", f"Does the page on {member} confirm the link to {owner}?",
                         f"Verify {member} from its own article.")

    def slip_caught(self, wrong: str, right: str) -> str:
        return " " + self.pick(f"I nearly wrote {wrong}, but the evidence says {right}.",
                               f"Not {wrong}: re-reading the evidence gives {right}.",
                               f"Careful: {wrong} would be a slip; it is {right}.")

    def describe_open(self, where: str, what: str) -> str:
        return _cap(self.pick(f"{where} may be {what}; open it to check.", f"{where} could be {what}; read it.",
                              f"{where} might fit {what}; open it and compare."))

    def description_fits(self, what: str, x: str) -> str:
        return " " + self.pick(f"This matches: {what} is {x}.", f"Every part fits, so {what} is {x}.",
                               f"So {what} is {x}.")


def _cap(text: str) -> str:
    return text[0].upper() + text[1:] if text else text
