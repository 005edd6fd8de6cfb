"""PDF bytes to text with pypdfium2: every page in order, pages separated by a blank line.

A PDF is read in a child process with a memory and a time limit (`pdf_text`): a 300 KB PDF can
hold a content stream that inflates to hundreds of MB, which pdfium turns into gigabytes of
objects, and pdfium aborts the whole process when an allocation fails. In a child, that costs
the child: the PDF is an InputError naming the limit, and the worker (or `tracker match`) goes
on with the other inputs. The child is `python -P -m tracker.text.pdf MEMORY SECONDS`: the PDF on
stdin, `{"text": …}` or `{"problem": …}` as JSON on stdout; it sets its own limits before it
reads anything (no preexec_fn: the worker has threads). `-P`: the current folder is not on the
child's path, so no `tracker/` planted there is imported.
"""

from __future__ import annotations

import json
import re
import resource
import signal
import subprocess
import sys

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from tracker.errors import InputError

PAGE_SEPARATOR = "\n\n"
NO_TEXT = "PDF has no text layer (scanned?); OCR is not supported"
MAX_MEMORY = 256 << 20  # bytes of address space of the reading child (PDF_MAX_MEMORY)
MAX_SECONDS = 30.0  # seconds the reading child may take (PDF_TIMEOUT)

# What pdfium's document-loading error codes mean to a user.
LOAD_ERRORS = {
    pdfium_c.FPDF_ERR_FILE: "PDF cannot be read",
    pdfium_c.FPDF_ERR_FORMAT: "PDF is damaged or truncated",
    pdfium_c.FPDF_ERR_PASSWORD: "PDF is encrypted (needs a password)",
    pdfium_c.FPDF_ERR_SECURITY: "PDF uses an unsupported security handler",
}

# Control characters pdfium reports for soft hyphens, form feeds and unmapped glyphs.
JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def pdf_text(data: bytes, where: str, max_memory: int = MAX_MEMORY,
             seconds: float = MAX_SECONDS) -> str:
    """The text of every page of the PDF in `data`, pages joined by a blank line, read in a
    child process of at most `max_memory` bytes and `seconds`; InputError naming `where` when
    the PDF is bad or needs more."""
    limits = f"{max_memory >> 20} MB (PDF_MAX_MEMORY)"
    try:
        done = subprocess.run([sys.executable, "-P", "-m", "tracker.text.pdf", str(max_memory),
                               repr(float(seconds))], input=data, capture_output=True,
                              timeout=seconds)
    except subprocess.TimeoutExpired:
        raise InputError(where, f"PDF takes longer than {seconds:g} s to read (PDF_TIMEOUT); "
                                "not read") from None
    except OSError as error:
        raise InputError(where, f"PDF reader cannot be started ({error})") from None
    if done.returncode == -signal.SIGXCPU:
        raise InputError(where, f"PDF takes longer than {seconds:g} s to read (PDF_TIMEOUT); "
                                "not read")
    if done.returncode < 0:  # pdfium aborts when an allocation fails
        name = signal.Signals(-done.returncode).name
        raise InputError(where, f"PDF cannot be read within {limits}: the reader stopped "
                                f"({name}); not read")
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        answer = {}
    if "text" in answer:
        return answer["text"]
    if answer.get("over") == "memory":
        raise InputError(where, f"PDF cannot be read within {limits}; not read")
    if answer.get("problem"):
        raise InputError(where, answer["problem"])
    raise InputError(where, f"PDF reader failed (exit {done.returncode})")


def extract_text(data: bytes, where: str) -> str:
    """`pdf_text` in this process, without limits: what the child runs."""
    try:
        document = pdfium.PdfDocument(bytes(data))
    except pdfium.PdfiumError as error:
        raise InputError(where, LOAD_ERRORS.get(error.err_code, f"PDF cannot be opened ({error})")) from None
    try:
        pages = [_page_text(document, index, where) for index in range(len(document))]
    finally:
        document.close()
    if not any(page.strip() for page in pages):
        raise InputError(where, NO_TEXT)
    return PAGE_SEPARATOR.join(pages)


def _page_text(document: pdfium.PdfDocument, index: int, where: str) -> str:
    try:
        page = document[index]
    except pdfium.PdfiumError as error:
        raise InputError(where, f"PDF page {index + 1} cannot be read ({error})") from None
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
    except pdfium.PdfiumError as error:
        raise InputError(where, f"PDF page {index + 1} has unreadable text ({error})") from None
    finally:
        page.close()
    text = JUNK.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _child(argv: list[str]) -> int:
    """The reading child: limits first, then the PDF from stdin, the answer on stdout."""
    memory, seconds = int(argv[0]), float(argv[1])
    _lower(resource.RLIMIT_AS, memory)
    _lower(resource.RLIMIT_CPU, int(seconds) + 1)  # SIGXCPU: the parent's timeout, in CPU time
    answer: dict[str, str]
    try:
        answer = {"text": extract_text(sys.stdin.buffer.read(), "")}
    except InputError as error:
        answer = {"problem": error.problem}
    except MemoryError:
        answer = {"over": "memory"}
    sys.stdout.buffer.write(json.dumps(answer).encode("ascii"))
    return 0


def _lower(limit: int, value: int) -> None:
    """Set a resource limit to `value`, or keep the lower one this process was given."""
    _soft, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(limit, (value, hard if limit == resource.RLIMIT_CPU else value))


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
