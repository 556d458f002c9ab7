"""The base layer: settings, report periods, reference data, the warehouse connection and schema, the findings
workbook's labels. It imports nothing else of the project; everything else imports it."""
