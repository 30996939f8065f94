module github.com/AndrewDonelson/strata/l1mem

go 1.24
