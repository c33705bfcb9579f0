"""Messages of :mod:`features.validate` in Vietnamese and English.

Kept apart from the checks so the validator reads as logic; registering at
import time is enough (:mod:`features.validate` imports this module).
"""

from __future__ import annotations

from features.i18n import register

register(
    {
        "validate.missing_column": {
            "vi": "thiếu cột bắt buộc '{column}'",
            "en": "required column '{column}' is missing",
        },
        "validate.mapped_missing": {
            "vi": "không có cột '{column}' (khai báo {key} = \"{column}\" trong [data])",
            "en": "there is no column '{column}' (declared {key} = \"{column}\" under [data])",
        },
        "validate.column_close": {
            "vi": "có cột '{close}': đổi tiêu đề thành '{column}' hoặc khai báo "
            '{key} = "{close}" trong mục [data] của tệp kịch bản',
            "en": "there is a column '{close}': rename it to '{column}' or declare "
            '{key} = "{close}" under [data] in the scenario file',
        },
        "validate.column_none": {
            "vi": 'thêm cột này vào dòng 1, hoặc khai báo {key} = "<tên cột>" trong '
            "mục [data]; các cột hiện có: {headers}",
            "en": 'add this column to row 1, or declare {key} = "<column name>" under '
            "[data]; the file has: {headers}",
        },
        "validate.duplicate_header": {
            "vi": "tiêu đề '{column}' xuất hiện {n} lần (cột thứ {positions})",
            "en": "header '{column}' appears {n} times (columns {positions})",
        },
        "validate.duplicate_header_hint": {
            "vi": "đặt cho mỗi cột một tiêu đề riêng",
            "en": "give every column its own header",
        },
        "validate.blank_header": {
            "vi": "cột thứ {position} có dữ liệu nhưng không có tiêu đề nên bị bỏ qua",
            "en": "column {position} holds data but has no header, so it is ignored",
        },
        "validate.long_row": {
            "vi": "dòng có {n} ô nhưng dòng tiêu đề chỉ có {m} cột",
            "en": "the row has {n} cells but the header has only {m} columns",
        },
        "validate.long_row_hint": {
            "vi": "kiểm tra dấu phân cách (',' hoặc ';') và dấu phẩy thập phân; ô chứa "
            "dấu phân cách phải nằm trong ngoặc kép",
            "en": "check the separator (',' or ';') and decimal commas; a cell containing "
            "the separator must be quoted",
        },
        "validate.other_sheet": {
            "vi": "trang tính đầu '{sheet}' không có các cột {columns}, trang '{other}' thì có",
            "en": "the first sheet '{sheet}' lacks columns {columns}; sheet '{other}' has them",
        },
        "validate.other_sheet_hint": {
            "vi": 'chỉ rõ trang cần đọc: sheet = "{other}" trong mục [data] (hoặc --sheet)',
            "en": 'name the sheet to read: sheet = "{other}" under [data] (or --sheet)',
        },
        "validate.header_below": {
            "vi": "tên cột ('{id}', '{name}') nằm ở dòng {row} thay vì dòng 1",
            "en": "the column names ('{id}', '{name}') are in row {row}, not in row 1",
        },
        "validate.header_below_hint": {
            "vi": "xóa {n} dòng tiêu đề/ghi chú phía trên để tên cột nằm ở dòng 1",
            "en": "delete the {n} title/note row(s) above so the column names are in row 1",
        },
        "validate.no_rows_hint": {
            "vi": "thêm mỗi đơn vị một dòng, bắt đầu từ dòng 2",
            "en": "add one row per unit, starting at row 2",
        },
        "validate.numeric_is_role_hint": {
            "vi": "bỏ cột này khỏi danh sách cột số (numeric)",
            "en": "remove this column from the numeric list",
        },
        "validate.require_missing_hint": {
            "vi": "kiểm tra tên cột (viết đúng như dòng 1) hoặc bỏ nó khỏi {purpose}; "
            "các cột số hiện có: {columns}",
            "en": "check the column name (exactly as in row 1) or drop it from {purpose}; "
            "numeric columns: {columns}",
        },
        "validate.headers_hint": {
            "vi": "các cột hiện có: {headers}",
            "en": "the file has: {headers}",
        },
        "validate.no_rows": {
            "vi": "bảng không có đơn vị nào (chỉ có dòng tiêu đề)",
            "en": "the table has no units (only the header row)",
        },
        "validate.empty_id": {"vi": "mã đơn vị trống", "en": "the unit id is empty"},
        "validate.empty_id_hint": {
            "vi": "mỗi đơn vị cần một mã riêng",
            "en": "every unit needs its own id",
        },
        "validate.duplicate_id": {
            "vi": "mã '{value}' lặp lại ở các dòng {rows}",
            "en": "id '{value}' is repeated in rows {rows}",
        },
        "validate.near_duplicate_id": {
            "vi": "các mã {values} ở các dòng {rows} chỉ khác nhau ở chữ hoa/thường, "
            "dấu cách hoặc cách ghi dấu",
            "en": "ids {values} in rows {rows} differ only in case, spaces or accent encoding",
        },
        "validate.duplicate_id_hint": {
            "vi": "mỗi đơn vị phải có một mã riêng: sửa mã hoặc xóa dòng trùng",
            "en": "each unit needs a distinct id: fix the id or delete the repeated row",
        },
        "validate.empty_name": {
            "vi": "tên đơn vị trống",
            "en": "the unit name is empty",
        },
        "validate.empty_name_hint": {
            "vi": "nhập tên hiển thị của đơn vị",
            "en": "enter the unit's display name",
        },
        "validate.control_character": {
            "vi": "có ký tự điều khiển ẩn {code} (thường do sao chép từ phần mềm khác)",
            "en": "contains the invisible control character {code} "
            "(usually pasted from another program)",
        },
        "validate.control_character_hint": {
            "vi": "xóa ký tự đó khỏi ô (gõ lại nội dung ô)",
            "en": "remove it from the cell (retype the cell's text)",
        },
        "validate.not_number": {"vi": "không phải là số", "en": "not a number"},
        "validate.not_number_hint": {
            "vi": "nhập một số (ví dụ 1234.5) hoặc để trống nếu chưa biết",
            "en": "enter a number (e.g. 1234.5) or leave the cell empty if unknown",
        },
        "validate.use_decimal_comma": {
            "vi": "số này dùng dấu phẩy thập phân: đọc tệp với tùy chọn dấu phẩy thập phân",
            "en": "this number uses a decimal comma: read the file with the decimal-comma option",
        },
        "validate.use_decimal_point": {
            "vi": "đang đọc với dấu phẩy thập phân, nên '.' chỉ được dùng để nhóm hàng "
            "nghìn: viết {fixed}, hoặc bỏ tùy chọn dấu phẩy thập phân",
            "en": "with the decimal-comma option '.' only groups thousands: write {fixed}, "
            "or drop the decimal-comma option",
        },
        "validate.nonfinite": {
            "vi": "giá trị không xác định (NaN/vô cực)",
            "en": "not a finite number (NaN/infinity)",
        },
        "validate.nonfinite_hint": {
            "vi": "nhập số thật, hoặc để trống ô nếu chưa biết",
            "en": "enter the real figure, or leave the cell empty if unknown",
        },
        "validate.negative": {
            "vi": "số liệu quy mô phải ≥ 0",
            "en": "scale figures must be >= 0",
        },
        "validate.negative_hint": {
            "vi": "kiểm tra dấu trừ hoặc số liệu gốc",
            "en": "check the minus sign or the source figure",
        },
        "validate.missing_values": {
            "vi": "{n} ô trống (dòng {rows}); không tự điền, các ô này được để trống",
            "en": "{n} empty cell(s) (rows {rows}); nothing is filled in, they stay empty",
        },
        "validate.coord_alone": {
            "vi": "có cột '{present}' nhưng không có cột '{missing}'",
            "en": "column '{present}' is given without column '{missing}'",
        },
        "validate.coord_alone_hint": {
            "vi": "vĩ độ và kinh độ phải đi cùng nhau: thêm cột còn thiếu hoặc xóa cột này",
            "en": "latitude and longitude go together: add the missing column or remove this one",
        },
        "validate.coord_half": {
            "vi": "có '{present}' nhưng '{missing}' trống",
            "en": "'{present}' is given but '{missing}' is empty",
        },
        "validate.coord_half_hint": {
            "vi": "nhập cả vĩ độ lẫn kinh độ, hoặc để trống cả hai",
            "en": "enter both latitude and longitude, or leave both empty",
        },
        "validate.coord_range": {
            "vi": "phải nằm trong khoảng [{low}, {high}] độ",
            "en": "must lie within [{low}, {high}] degrees",
        },
        "validate.coord_range_hint": {
            "vi": "nhập tọa độ WGS84 theo độ thập phân",
            "en": "enter WGS84 coordinates in decimal degrees",
        },
        "validate.coord_swapped": {
            "vi": "có vẻ vĩ độ và kinh độ bị đổi chỗ (Việt Nam: vĩ độ ≈ 8–24, kinh độ ≈ 102–110)",
            "en": "latitude and longitude look swapped (Vietnam: lat ≈ 8–24, lon ≈ 102–110)",
        },
        "validate.unknown_numeric": {
            "vi": "cột số '{column}' được khai báo nhưng không có trong tệp",
            "en": "numeric column '{column}' is declared but not in the file",
        },
        "validate.empty_category": {
            "vi": "{n} ô trống (dòng {rows}); các đơn vị này được coi là không có giá trị",
            "en": "{n} empty cell(s) (rows {rows}); those units have no value here",
        },
        "validate.numeric_is_role": {
            "vi": "cột '{column}' đã có vai trò riêng (mã, tên, vùng, tọa độ…), "
            "không thể khai báo là cột số liệu quy mô",
            "en": "column '{column}' already has a role (id, name, region, "
            "coordinates…) and cannot also be a scale column",
        },
        "validate.text_column": {
            "vi": "chỉ {n}/{m} ô là số nên cột được coi là chữ (không dùng làm số liệu quy mô)",
            "en": "only {n} of {m} cells are numbers, so the column is read as text "
            "(not a scale figure)",
        },
        "validate.require_missing": {
            "vi": "cột '{column}' cần cho {purpose} nhưng không có trong bảng",
            "en": "column '{column}' is needed for {purpose} but is not in the table",
        },
        "validate.require_empty": {
            "vi": "ô trống nhưng cột '{column}' được dùng cho {purpose}",
            "en": "the cell is empty but column '{column}' is used for {purpose}",
        },
        "validate.require_empty_hint": {
            "vi": "điền giá trị, hoặc bỏ '{column}' khỏi {purpose}",
            "en": "fill it in, or drop '{column}' from {purpose}",
        },
        "validate.more_rows": {
            "vi": "{listed} … và {n} dòng khác",
            "en": "{listed} … and {n} more",
        },
    }
)
