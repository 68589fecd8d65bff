# Writes R's own files in data/r/ from R's datasets package (run once: Rscript data/r/write_files.R);
# data/r/write_files.py writes the other new formats from these.
setwd(commandArgs(trailingOnly = FALSE) |> grep(pattern = "^--file=", value = TRUE) |> sub(pattern = "^--file=", replacement = "") |> dirname())
saveRDS(warpbreaks, "warpbreaks.rds")
save(esoph, file = "esoph.rda")
save(InsectSprays, esoph, file = "InsectSprays_esoph.RData")
# airquality: integer columns with NA (Ozone, Solar.R), which pyreadr hands over as Python objects
save(airquality, file = "airquality.RData")
# Dobson's example of ?glm as R 4 writes it: gl()'s compact factors, which pyreadr cannot read
counts <- c(18, 17, 15, 20, 10, 20, 25, 13, 12)
saveRDS(data.frame(counts, outcome = gl(3, 1, 9), treatment = gl(3, 3)), "dobson_v3.rds")
