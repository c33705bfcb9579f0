"""Messages of :mod:`features.load` and :mod:`features.reader` in Vietnamese and English.

Kept apart from the reading logic (module size); registering at import time
is enough, both readers import this module.
"""

from __future__ import annotations

from features.i18n import register

register(
    {
        "load.not_found": {
            "vi": "không tìm thấy tệp",
            "en": "file not found",
        },
        "load.not_found_hint": {
            "vi": "kiểm tra lại đường dẫn và tên tệp",
            "en": "check the path and the file name",
        },
        "load.is_dir": {
            "vi": "đây là một thư mục, không phải tệp",
            "en": "this is a folder, not a file",
        },
        "load.is_dir_hint": {
            "vi": "chỉ ra tệp .csv hoặc .xlsx bên trong thư mục",
            "en": "name the .csv or .xlsx file inside the folder",
        },
        "load.empty": {"vi": "tệp rỗng", "en": "the file is empty"},
        "load.empty_hint": {
            "vi": "chọn đúng tệp: dòng 1 là tên cột, mỗi dòng sau là một đơn vị",
            "en": "pick the right file: row 1 names the columns, each later row is a unit",
        },
        "load.unreadable_hint": {
            "vi": "kiểm tra quyền đọc tệp và đóng tệp nếu chương trình khác đang khóa nó",
            "en": "check read permission, and close the file if another program locks it",
        },
        "load.unreadable": {
            "vi": "không đọc được tệp ({reason})",
            "en": "cannot read the file ({reason})",
        },
        "load.binary": {
            "vi": "tệp không phải bảng CSV hay Excel (.xlsx)",
            "en": "the file is neither a CSV table nor an Excel workbook (.xlsx)",
        },
        "load.resave_hint": {
            "vi": "mở tệp trong Excel và lưu lại dạng CSV UTF-8 hoặc .xlsx",
            "en": "open it in Excel and save it as CSV UTF-8 or .xlsx",
        },
        "load.encoding": {
            "vi": "không nhận ra bảng mã (chỉ hỗ trợ UTF-8 và Windows-1258)",
            "en": "unknown text encoding (UTF-8 and Windows-1258 are supported)",
        },
        "load.xls": {
            "vi": "tệp Excel đời cũ (.xls) không được hỗ trợ",
            "en": "old Excel files (.xls) are not supported",
        },
        "load.bad_xlsx": {
            "vi": "tệp .xlsx bị hỏng hoặc không đọc được ({reason})",
            "en": "the .xlsx file is damaged or unreadable ({reason})",
        },
        "load.no_sheet": {
            "vi": "không có trang tính '{sheet}'",
            "en": "there is no sheet '{sheet}'",
        },
        "load.no_sheet_hint": {
            "vi": "các trang tính có trong tệp: {sheets}",
            "en": "the workbook has these sheets: {sheets}",
        },
        "load.csv_error": {
            "vi": "lỗi cú pháp CSV ({reason})",
            "en": "CSV syntax error ({reason})",
        },
        "load.csv_unclosed": {
            "vi": "dấu ngoặc kép mở ở ô này không được đóng (đến dòng {line} vẫn chưa đóng)",
            "en": "a double quote opened in this row is never closed (still open at line {line})",
        },
        "load.mixed_encoding": {
            "vi": "tệp trộn hai bảng mã: các dòng {utf8} là UTF-8, các dòng {other} thì không "
            "(có lẽ Windows-1258)",
            "en": "the file mixes two text encodings: lines {utf8} are UTF-8, lines {other} "
            "are not (Windows-1258?)",
        },
        "load.csv_error_hint": {
            "vi": "kiểm tra dấu ngoặc kép; ô chứa dấu phân cách phải nằm trong ngoặc kép",
            "en": "check the quotes; a cell containing the separator must be quoted",
        },
        "load.no_header": {
            "vi": "dòng 1 trống; dòng 1 phải chứa tên các cột",
            "en": "row 1 is empty; row 1 must hold the column names",
        },
        "load.no_header_hint": {
            "vi": "xóa các dòng tiêu đề/ghi chú phía trên để tên cột nằm ở dòng 1",
            "en": "delete title or note rows above so the column names are in row 1",
        },
        "load.adj_columns": {
            "vi": "cần 2 cột (mã đơn vị A, mã đơn vị B) nhưng dòng chỉ có {n} cột",
            "en": "2 columns are needed (unit id A, unit id B) but the row has {n}",
        },
        "load.adj_empty": {
            "vi": "thiếu mã đơn vị",
            "en": "a unit id is missing",
        },
        "load.adj_empty_hint": {
            "vi": "mỗi dòng ghi hai mã đơn vị kề nhau",
            "en": "each row names two neighbouring unit ids",
        },
        "load.adj_unknown": {
            "vi": "mã đơn vị không có trong bảng đơn vị",
            "en": "unit id not in the unit table",
        },
        "load.adj_unknown_close": {
            "vi": "có phải {close}?",
            "en": "did you mean {close}?",
        },
        "load.adj_unknown_hint": {
            "vi": "dùng đúng mã ở cột mã đơn vị của bảng đơn vị",
            "en": "use the ids of the unit table's id column",
        },
        "load.adj_self": {
            "vi": "đơn vị '{unit}' được ghi là kề với chính nó",
            "en": "unit '{unit}' is paired with itself",
        },
        "load.adj_self_hint": {"vi": "xóa dòng này", "en": "delete this row"},
        "load.adj_repeat": {
            "vi": "cặp {a}–{b} đã có ở dòng {first}; hai dòng được gộp làm một",
            "en": "pair {a}–{b} already appears in row {first}; merged into one",
        },
    }
)
