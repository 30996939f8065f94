module github.com/AndrewDonelson/strata/l3postgres

go 1.24
