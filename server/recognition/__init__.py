"""Face recognition: image bytes -> faces -> encodings -> student IDs.

``images`` (decode, EXIF, pixel limit), ``faces`` (dlib detection and encoding, lazy models),
``gallery`` (matching encodings against enrolled students), ``pool`` (worker processes) and
``enrollment`` (the knowns/ folder -> face_encodings table -> gallery).
"""
