#!/usr/bin/env python3
"""The pictures of docs/paper.md (issue 20), rendered by the build (docs/CMakeLists.txt) into
BUILD/docs/: a badge and a certificate, real PNG files of the expected size with ink on them,
whose QR codes zbarimg reads and `admit verify` accepts (against the sample key the renderer
keeps beside them); docs/paper.md shows them and the README's "Paper" section links it; and no
picture is committed.
"""

import os
import struct
import subprocess
import unittest
import zlib

SOURCE = os.environ["ADMIT_SOURCE_DIR"]
BUILD = os.environ["ADMIT_BUILD_DIR"]
ADMIT = os.environ["ADMIT_BIN"]
PICTURES = os.path.join(BUILD, "docs")
PUB = os.path.join(PICTURES, "sample-key", "ticket-signing.pub")


def png_info(path):
    """(width, height, share of pixel bytes that are not white) of an 8-bit PNG, read with the
    standard library only."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG: %s" % path
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = header[:4]
    assert depth == 8, header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * channels
    # Filters aside, a row of a white page is all 255 or (filtered) all 0: count rows with ink.
    inked = 0
    for row in range(height):
        line = raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)]
        if line.strip(b"\xff").strip(b"\x00"):
            inked += 1
    return width, height, inked / height


class Pictures(unittest.TestCase):

    def qr(self, name):
        done = subprocess.run(["zbarimg", "--raw", "-q", os.path.join(PICTURES, name)],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout.strip()

    def verify(self, text):
        done = subprocess.run([ADMIT, "verify", "--pub", PUB, text], capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        return done.stdout

    def test_badge(self):
        width, height, inked = png_info(os.path.join(PICTURES, "badge.png"))
        self.assertEqual((width, height), (620, 874))  # a6, 105 x 148 mm at 150 dpi
        self.assertGreater(inked, 0.2)  # a blank page: 0
        self.assertGreater(os.path.getsize(os.path.join(PICTURES, "badge.png")), 10000)
        text = self.qr("badge.png")
        self.assertTrue(text.startswith("AD1:"), text)
        self.assertIn("valid", self.verify(text))

    def test_certificate(self):
        width, height, inked = png_info(os.path.join(PICTURES, "certificate.png"))
        self.assertEqual((width, height), (1240, 1754))  # A4 at 150 dpi
        self.assertGreater(inked, 0.15)  # a blank page: 0
        self.assertGreater(os.path.getsize(os.path.join(PICTURES, "certificate.png")), 30000)
        text = self.qr("certificate.png")
        self.assertTrue(text.startswith("AC1:"), text)
        self.assertIn("valid certificate", self.verify(text))

    def test_only_the_public_half_of_the_sample_key_is_kept(self):
        self.assertTrue(os.path.exists(PUB))
        self.assertFalse(os.path.exists(os.path.join(PICTURES, "sample-key",
                                                     "ticket-signing.key")))

    def test_the_docs_show_them_and_none_is_committed(self):
        with open(os.path.join(SOURCE, "docs", "paper.md"), encoding="utf-8") as f:
            page = f.read()
        self.assertIn("](../build/docs/badge.png)", page)
        self.assertIn("](../build/docs/certificate.png)", page)
        with open(os.path.join(SOURCE, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        paper = readme[readme.index("\n## Paper\n"):]
        paper = paper[:paper.index("\n## ", 1)]
        self.assertIn("(docs/paper.md)", paper)
        if os.path.isdir(os.path.join(SOURCE, ".git")) or os.path.isfile(
                os.path.join(SOURCE, ".git")):
            files = subprocess.run(["git", "-C", SOURCE, "ls-files", "*.png"],
                                   capture_output=True, text=True, timeout=60).stdout
            self.assertEqual(files.strip(), "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
