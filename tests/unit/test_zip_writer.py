"""The export's ZIP writer (chalicelib.jobs.export): what it writes, zipfile reads, and past
4 GiB it writes the ZIP64 records."""

import io
import struct
import zipfile

from chalicelib.jobs import export


def test_entries_and_directory_make_an_archive_zipfile_reads():
    buffer = bytearray()
    records = []
    for name, data, deflate in (
        ("a.json", b'{"x": 1}' * 100, True),
        ("photos/é.jpg", b"\xff\xd8\xff" + bytes(500), False),
    ):
        records.append(export._write_entry(buffer, name, data, deflate, len(buffer)))
    export._write_directory(buffer, records, len(buffer))
    archive = zipfile.ZipFile(io.BytesIO(bytes(buffer)))
    assert archive.testzip() is None
    assert archive.namelist() == ["a.json", "photos/é.jpg"]
    assert archive.read("a.json") == b'{"x": 1}' * 100
    assert archive.getinfo("a.json").compress_type == zipfile.ZIP_DEFLATED
    assert archive.getinfo("photos/é.jpg").compress_type == zipfile.ZIP_STORED


def test_past_4_gib_the_directory_carries_zip64_records():
    far = 5 * 1024**3
    buffer = bytearray()
    record = export._write_entry(bytearray(), "big.jpg", b"x", False, far)
    export._write_directory(buffer, [record], far + 31)
    assert struct.pack("<HHQ", 1, 8, far) in buffer  # the entry's offset, in its extra field
    end64 = buffer.index(struct.pack("<I", 0x06064B50))
    (offset,) = struct.unpack_from("<Q", buffer, end64 + 48)
    assert offset == far + 31  # where the directory starts
    end = buffer[-22:]
    assert end[:4] == struct.pack("<I", 0x06054B50)
    assert struct.unpack_from("<I", end, 16)[0] == 0xFFFFFFFF  # see the ZIP64 record
